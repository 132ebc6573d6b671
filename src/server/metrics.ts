import type { Broker } from "../broker/broker.js";
import type { LabelledCounter } from "../broker/metrics.js";
import type { HttpMetrics } from "./http-metrics.js";

/** A Prometheus label value, quoted and escaped. */
export function labelValue(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;
}

type Row = readonly [labels: string, value: number];

function family(
  name: string,
  type: "counter" | "gauge",
  help: string,
  rows: Iterable<Row>,
): string[] {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of rows) lines.push(`${name}{${labels}} ${value}`);
  return lines;
}

function byLabel(counter: LabelledCounter, label: string): Row[] {
  return [...counter.entries()].map(([value, n]) => [`${label}=${labelValue(value)}`, n] as const);
}

function counterFamilies(broker: Broker): string[] {
  const m = broker.metrics;
  return [
    ...family(
      "switchyard_published_events_total",
      "counter",
      "Events appended, by topic (duplicates excluded).",
      byLabel(m.publishedEvents, "topic"),
    ),
    ...family(
      "switchyard_published_bytes_total",
      "counter",
      "Bytes of events appended, by topic.",
      byLabel(m.publishedBytes, "topic"),
    ),
    ...family(
      "switchyard_duplicate_events_total",
      "counter",
      "Publishes dropped as duplicates inside the dedupe window, by topic.",
      byLabel(m.duplicateEvents, "topic"),
    ),
    ...family(
      "switchyard_deliveries_total",
      "counter",
      "Deliveries handed out (pull and stream), by subscription.",
      byLabel(m.deliveries, "subscription"),
    ),
    ...family(
      "switchyard_deliveries_released_total",
      "counter",
      "Deliveries handed back unsent (client gone, write failed): no attempt used, by subscription.",
      byLabel(m.released, "subscription"),
    ),
    ...family(
      "switchyard_acks_total",
      "counter",
      "Deliveries acknowledged, by subscription.",
      byLabel(m.acks, "subscription"),
    ),
    ...family(
      "switchyard_nacks_total",
      "counter",
      "Deliveries negatively acknowledged, by subscription.",
      byLabel(m.nacks, "subscription"),
    ),
    ...family(
      "switchyard_extends_total",
      "counter",
      "Lease extensions, by subscription.",
      byLabel(m.extends, "subscription"),
    ),
    ...family(
      "switchyard_rejects_total",
      "counter",
      "Deliveries rejected straight to the dead-letter topic, by subscription.",
      byLabel(m.rejects, "subscription"),
    ),
    ...family(
      "switchyard_push_requests_total",
      "counter",
      "Push requests sent (a batch counts once), by subscription.",
      byLabel(m.pushRequests, "subscription"),
    ),
    ...family(
      "switchyard_push_failures_total",
      "counter",
      "Push requests answered with anything but 2xx, or not answered, by subscription.",
      byLabel(m.pushFailures, "subscription"),
    ),
    ...family(
      "switchyard_pushed_events_total",
      "counter",
      "Events acknowledged by a push endpoint, by subscription.",
      byLabel(m.pushedEvents, "subscription"),
    ),
    ...family(
      "switchyard_schema_violations_total",
      "counter",
      "Events appended by a topic in schema mode warn despite failing the check, by topic and reason (data, not_json, dataschema, unknown_type).",
      [...m.schemaViolations.entries()].map(
        ([topic, reason, n]) =>
          [`topic=${labelValue(topic)},reason=${labelValue(reason)}`, n] as const,
      ),
    ),
  ];
}

async function subscriptionFamilies(broker: Broker): Promise<string[]> {
  const rows = await broker.subscriptionStats();
  const labels = (name: string, topic: string) =>
    `subscription=${labelValue(name)},topic=${labelValue(topic)}`;
  const gauge = (pick: (s: (typeof rows)[number]["stats"]) => number): Row[] =>
    rows.map((r) => [labels(r.config.name, r.config.topic), pick(r.stats)] as const);
  return [
    ...family(
      "switchyard_subscription_lag",
      "gauge",
      "Events not yet acknowledged by the subscription.",
      gauge((s) => s.lag),
    ),
    ...family(
      "switchyard_subscription_in_flight",
      "gauge",
      "Deliveries leased and not yet settled.",
      gauge((s) => s.inFlight),
    ),
    ...family(
      "switchyard_subscription_oldest_unacked_age_seconds",
      "gauge",
      "Age of the oldest delivered, unacknowledged event.",
      gauge((s) => s.oldestUnackedAgeMs / 1000),
    ),
    ...family(
      "switchyard_dead_letters_total",
      "counter",
      "Events moved to the dead-letter topic (rejected or out of attempts), by subscription.",
      gauge((s) => s.deadLettered),
    ),
  ];
}

async function topicFamilies(broker: Broker): Promise<string[]> {
  const topics = await broker.listTopics();
  const stats = await Promise.all(
    topics.map(async (t) => ({
      name: t.name,
      stats: (await broker.getTopic(t.name).catch(() => null))?.stats,
    })),
  );
  const present = stats.flatMap((s) =>
    s.stats === undefined ? [] : [{ name: s.name, stats: s.stats }],
  );
  const rows = (pick: (s: (typeof present)[number]["stats"]) => number): Row[] =>
    present.map((s) => [`topic=${labelValue(s.name)}`, pick(s.stats)] as const);
  return [
    ...family(
      "switchyard_topic_events",
      "gauge",
      "Events retained in the topic.",
      rows((s) => s.events),
    ),
    ...family(
      "switchyard_topic_bytes",
      "gauge",
      "Bytes retained in the topic.",
      rows((s) => s.bytes),
    ),
    ...family(
      "switchyard_topic_last_offset",
      "gauge",
      "Last offset appended to the topic.",
      rows((s) => s.lastOffset),
    ),
  ];
}

/** The `/metrics` body: broker counters, engine stats computed now, HTTP durations. */
export async function renderMetrics(broker: Broker, http: HttpMetrics): Promise<string> {
  const lines = [
    ...counterFamilies(broker),
    ...(await topicFamilies(broker)),
    ...(await subscriptionFamilies(broker)),
    ...http.render(labelValue),
  ];
  return `${lines.join("\n")}\n`;
}
