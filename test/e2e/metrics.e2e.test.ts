/**
 * `/metrics` read the way Prometheus reads it: the body of a real router, parsed by a real
 * text-format parser, checked family by family (type, HELP, labels) and watched move as
 * events are published, acked, dead-lettered and redriven, and as requests are refused.
 */
import parsePrometheusTextFormat, {
  type PromFamily,
  type PromSample,
} from "parse-prometheus-text-format";
import { beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/broker/keys.js";
import { LATENCY_BUCKETS } from "../../src/server/metrics.js";
import { eventually } from "../support/eventually.js";
import { api, event, routerPerFile, uniqueName } from "../support/router.js";

const ADMIN = generateKey();
const router = routerPerFile({ auth: true, adminKey: ADMIN.key });
const http = api(() => router.url);
const asAdmin = { headers: { authorization: `Bearer ${ADMIN.key}` } };

interface Scrape {
  readonly text: string;
  readonly families: ReadonlyMap<string, PromFamily>;
}

async function scrape(): Promise<Scrape> {
  const res = await http.get("/metrics", asAdmin);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = new Map(parsePrometheusTextFormat(res.text).map((f) => [f.name, f]));
  return { text: res.text, families };
}

function family(scraped: Scrape, name: string): PromFamily {
  const found = scraped.families.get(name);
  if (found === undefined) throw new Error(`no family ${name}`);
  return found;
}

/** The sample whose labels include `labels`, or undefined. */
function sample(
  scraped: Scrape,
  name: string,
  labels: Record<string, string>,
): PromSample | undefined {
  return family(scraped, name).metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
}

/**
 * One series of a labelled histogram. The parser folds every series of a histogram family
 * into one sample and drops their labels, so it is handed that series alone, its one
 * label taken off (the values and the bucket layout are still the parser's reading).
 */
function histogram(text: string, name: string, label: string, value: string) {
  const pair = `${label}="${value}"`;
  const lines = text
    .split("\n")
    .filter((l) => l.startsWith(`${name}_`) && l.includes(pair))
    .map((l) => l.replace(`,${pair}`, "").replace(`${pair},`, "").replace(`{${pair}}`, ""));
  if (lines.length === 0) return undefined;
  const [only] = parsePrometheusTextFormat([`# TYPE ${name} histogram`, ...lines, ""].join("\n"));
  return only?.metrics[0];
}

function value(scraped: Scrape, name: string, labels: Record<string, string>) {
  const found = sample(scraped, name, labels);
  return found === undefined ? undefined : Number(found.value);
}

const TYPES: Record<string, PromFamily["type"]> = {
  switchyard_published_events_total: "COUNTER",
  switchyard_published_bytes_total: "COUNTER",
  switchyard_duplicate_events_total: "COUNTER",
  switchyard_deliveries_total: "COUNTER",
  switchyard_deliveries_released_total: "COUNTER",
  switchyard_acks_total: "COUNTER",
  switchyard_nacks_total: "COUNTER",
  switchyard_extends_total: "COUNTER",
  switchyard_rejects_total: "COUNTER",
  switchyard_push_requests_total: "COUNTER",
  switchyard_push_failures_total: "COUNTER",
  switchyard_pushed_events_total: "COUNTER",
  switchyard_schema_violations_total: "COUNTER",
  switchyard_dead_letters_total: "COUNTER",
  switchyard_auth_failures_total: "COUNTER",
  switchyard_topic_events: "GAUGE",
  switchyard_topic_bytes: "GAUGE",
  switchyard_topic_last_offset: "GAUGE",
  switchyard_subscription_lag: "GAUGE",
  switchyard_subscription_in_flight: "GAUGE",
  switchyard_subscription_oldest_unacked_age_seconds: "GAUGE",
  switchyard_subscription_dead_letter_depth: "GAUGE",
  switchyard_pulls_waiting: "GAUGE",
  switchyard_http_request_duration_seconds: "HISTOGRAM",
  switchyard_delivery_latency_seconds: "HISTOGRAM",
  switchyard_publish_latency_seconds: "HISTOGRAM",
};

describe("/metrics in the Prometheus text format", () => {
  const topic = uniqueName("mt");
  const sub = uniqueName("ms");
  const t = { topic };
  const s = { subscription: sub, topic };

  beforeAll(async () => {
    expect((await http.put(`/v1/topics/${topic}`, {}, asAdmin)).status).toBe(201);
    const created = await http.put(
      `/v1/subscriptions/${sub}`,
      { topic, start: "earliest" },
      asAdmin,
    );
    expect(created.status).toBe(201);
  });

  it("declares every family with its type and a HELP line, histograms with _bucket, _sum and _count", async () => {
    const scraped = await scrape();
    for (const [name, type] of Object.entries(TYPES)) {
      const f = family(scraped, name);
      expect(f.type, name).toBe(type);
      expect(f.help.length, name).toBeGreaterThan(10);
      expect(scraped.text).toContain(`# HELP ${name} `);
    }
    // The raw lines a histogram is made of; the parser folds them into one sample.
    for (const suffix of ["_bucket{", "_sum{", "_count{"])
      expect(scraped.text).toContain(`switchyard_http_request_duration_seconds${suffix}`);
  });

  it("moves with publishes, acks, dead letters, redrive and auth failures", async () => {
    const before = await scrape();
    expect(histogram(before.text, "switchyard_delivery_latency_seconds", "subscription", sub)).toBe(
      undefined,
    );
    const refusedBefore = (reason: string) =>
      value(before, "switchyard_auth_failures_total", { reason }) ?? 0;

    const published = await http.call("POST", `/v1/topics/${topic}/events`, {
      raw: JSON.stringify([event(), event(), event()]),
      headers: { ...asAdmin.headers, "content-type": "application/cloudevents-batch+json" },
    });
    expect(published.status).toBe(201);
    const pulled = await http.post(`/v1/subscriptions/${sub}/pull`, { max: 3 }, asAdmin);
    const [a, b, c] = pulled.body.deliveries as { ackId: string }[];
    if (a === undefined || b === undefined || c === undefined) throw new Error("3 expected");
    await http.post(`/v1/subscriptions/${sub}/ack`, { ackIds: [a.ackId] }, asAdmin);
    await http.post(
      `/v1/subscriptions/${sub}/reject`,
      { ackIds: [b.ackId, c.ackId], reason: "x" },
      asAdmin,
    );

    // Refusals: no key (401), a key without the scope (403), a foreign origin (403 csrf).
    expect((await http.get(`/v1/topics/${topic}`)).status).toBe(401);
    const reader = await http.post("/v1/keys", { name: "r", scopes: [`read:${topic}`] }, asAdmin);
    expect(reader.status).toBe(201);
    const readerKey = { authorization: `Bearer ${reader.body.key}` };
    await eventually(async () =>
      expect((await http.get("/v1/keys/self", { headers: readerKey })).status).toBe(200),
    );
    const forbidden = await http.del(`/v1/topics/${topic}`, { headers: readerKey });
    expect(forbidden.body.code).toBe("forbidden");
    const csrf = await http.post(
      "/ui/session",
      {},
      {
        headers: { ...readerKey, origin: "https://evil.example" },
      },
    );
    expect(csrf.body.code).toBe("csrf_failed");

    const after = await scrape();
    expect(value(after, "switchyard_published_events_total", t)).toBe(3);
    expect(value(after, "switchyard_topic_events", t)).toBe(3);
    expect(value(after, "switchyard_topic_last_offset", t)).toBe(3);
    expect(value(after, "switchyard_deliveries_total", { subscription: sub })).toBe(3);
    expect(value(after, "switchyard_acks_total", { subscription: sub })).toBe(1);
    expect(value(after, "switchyard_rejects_total", { subscription: sub })).toBe(2);
    expect(value(after, "switchyard_dead_letters_total", s)).toBe(2);
    expect(value(after, "switchyard_subscription_dead_letter_depth", s)).toBe(2);
    expect(value(after, "switchyard_subscription_lag", s)).toBe(0);
    for (const reason of ["unauthenticated", "forbidden", "csrf_failed"])
      expect(value(after, "switchyard_auth_failures_total", { reason }), reason).toBe(
        refusedBefore(reason) + 1,
      );

    // One ack observed, in the bucket layout the docs promise.
    const latency = histogram(
      after.text,
      "switchyard_delivery_latency_seconds",
      "subscription",
      sub,
    );
    expect(latency?.count).toBe("1");
    expect(Number(latency?.sum)).toBeGreaterThanOrEqual(0);
    // (Integer-like keys lead in a JS object's order, so compare as sets.)
    expect(Object.keys(latency?.buckets ?? {}).sort()).toEqual(
      [...LATENCY_BUCKETS.map(String), "+Inf"].sort(),
    );
    expect(latency?.buckets?.["+Inf"]).toBe("1");
    const publish = histogram(after.text, "switchyard_publish_latency_seconds", "topic", topic);
    expect(publish?.count).toBe("1");
    expect(publish?.buckets?.["+Inf"]).toBe("1");
    expect(Number(publish?.sum)).toBeGreaterThan(0);

    // A redrive empties the depth; the dead-letter total stays.
    const started = await http.post(`/v1/subscriptions/${sub}/redrive`, {}, asAdmin);
    expect(started.status).toBe(202);
    await eventually(async () => {
      const job = await http.get(
        `/v1/subscriptions/${sub}/redrives/${started.body.redrive}`,
        asAdmin,
      );
      expect(job.body.state).toBe("done");
    });
    const redriven = await scrape();
    expect(value(redriven, "switchyard_subscription_dead_letter_depth", s)).toBe(0);
    expect(value(redriven, "switchyard_dead_letters_total", s)).toBe(2);
    expect(value(redriven, "switchyard_subscription_lag", s)).toBe(2);

    // The redriven deliveries acked: two more latency observations.
    const again = await eventually(async () => {
      const res = await http.post(`/v1/subscriptions/${sub}/pull`, { max: 2 }, asAdmin);
      expect(res.body.deliveries).toHaveLength(2);
      return res.body.deliveries as { ackId: string }[];
    });
    await http.post(`/v1/subscriptions/${sub}/ack`, { ackIds: again.map((d) => d.ackId) }, asAdmin);
    const settled = await scrape();
    expect(
      histogram(settled.text, "switchyard_delivery_latency_seconds", "subscription", sub)?.count,
    ).toBe("3");
    expect(value(settled, "switchyard_subscription_lag", s)).toBe(0);
  });
});
