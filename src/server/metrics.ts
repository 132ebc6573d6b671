/**
 * The router's Prometheus registry: with histogram.ts, the only module that knows
 * prom-client. The broker counts through the `MetricsFactory` port this implements; engine
 * numbers (topic sizes, subscription lag, dead-letter depth) are read once per scrape and
 * set into gauges.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { Broker, SubscriptionGauges } from "../broker/broker.js";
import type {
  CounterChild,
  FamilySpec,
  HistogramChild,
  MetricsFactory,
} from "../broker/metrics.js";
import { FastHistogram } from "./histogram.js";
import { HttpMetrics } from "./http-metrics.js";

/** Latency buckets (seconds): from half a millisecond (a local group commit) to 10 s. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Request durations reach further: long polls wait up to 30 s. */
const HTTP_BUCKETS = [...LATENCY_BUCKETS, 30];

/** Why a request was refused: the problem `code` of its 401/403 answer. */
export type AuthFailureReason = "unauthenticated" | "forbidden" | "csrf_failed";

interface TopicRow {
  readonly name: string;
  readonly events: number;
  readonly bytes: number;
  readonly lastOffset: number;
}

interface Snapshot {
  readonly topics: readonly TopicRow[];
  readonly subscriptions: readonly SubscriptionGauges[];
}

async function readTopics(broker: Broker): Promise<TopicRow[]> {
  const topics = await broker.listTopics();
  const rows = await Promise.all(
    topics.map(async (t) => {
      const stats = (await broker.getTopic(t.name).catch(() => null))?.stats;
      return stats === undefined ? undefined : { name: t.name, ...stats };
    }),
  );
  return rows.filter((r) => r !== undefined);
}

/** Caches one child per key, so a hot path never builds a labels object. */
function cached<C>(make: (key: string) => C): (key: string) => C {
  const children = new Map<string, C>();
  return (key) => {
    let child = children.get(key);
    if (child === undefined) {
      child = make(key);
      children.set(key, child);
    }
    return child;
  };
}

export class RouterMetrics implements MetricsFactory {
  readonly registry = new Registry();
  readonly http: HttpMetrics;
  /** Request received → durable, by topic; the publish route observes it. */
  readonly publishLatency: (topic: string) => HistogramChild;
  /** 401/403 answers by reason. */
  readonly authFailure: (reason: AuthFailureReason) => CounterChild;
  #broker: Broker | undefined;
  #scrape: Promise<Snapshot> | undefined;

  constructor() {
    const registers = [this.registry];
    const requests = new FastHistogram({
      name: "switchyard_http_request_duration_seconds",
      help: "HTTP request durations by method, route and status.",
      labelNames: ["method", "route", "status"],
      buckets: HTTP_BUCKETS,
      registry: this.registry,
    });
    this.http = new HttpMetrics((method, route, status) => requests.labels(method, route, status));
    const http = this.http;
    new Gauge({
      name: "switchyard_pulls_waiting",
      help: "Pull requests waiting for deliveries now.",
      registers,
      collect() {
        this.set(http.pullsWaiting);
      },
    });
    const publish = new FastHistogram({
      name: "switchyard_publish_latency_seconds",
      help: "Seconds from a publish request's arrival to its events being durable, by topic.",
      labelNames: ["topic"],
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    this.publishLatency = cached((topic) => publish.labels(topic));
    const auth = new Counter({
      name: "switchyard_auth_failures_total",
      help: "Requests refused 401 or 403, by reason (unauthenticated, forbidden, csrf_failed).",
      labelNames: ["reason"],
      registers,
    });
    this.authFailure = cached((reason) => auth.labels(reason));
    this.#engineFamilies();
  }

  counter(spec: FamilySpec): (...values: string[]) => CounterChild {
    const c = new Counter({ ...this.#named(spec), registers: [this.registry] });
    return (...values) => c.labels(...values);
  }

  histogram(spec: FamilySpec): (...values: string[]) => HistogramChild {
    const h = new FastHistogram({
      ...this.#named(spec),
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    return (...values) => h.labels(...values);
  }

  /** The broker whose engine numbers the scrape reads (the one built with this factory). */
  bind(broker: Broker): void {
    this.#broker = broker;
  }

  /** The `/metrics` body in the Prometheus text format. */
  async render(): Promise<string> {
    const broker = this.#broker;
    this.#scrape =
      broker === undefined
        ? Promise.resolve({ topics: [], subscriptions: [] })
        : Promise.all([readTopics(broker), broker.subscriptionGauges()]).then(
            ([topics, subscriptions]) => ({ topics, subscriptions }),
          );
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #named(spec: FamilySpec): { name: string; help: string; labelNames: string[] } {
    return { name: spec.name, help: spec.help, labelNames: [...spec.labels] };
  }

  /** Gauges set from this scrape's snapshot; a deleted topic or subscription drops out. */
  #engineFamilies(): void {
    const registers = [this.registry];
    const snapshot = async (): Promise<Snapshot> =>
      (await this.#scrape) ?? { topics: [], subscriptions: [] };
    const topicGauge = (name: string, help: string, pick: (t: TopicRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["topic"],
        registers,
        async collect() {
          const { topics } = await snapshot();
          this.reset();
          for (const t of topics) this.labels(t.name).set(pick(t));
        },
      });
    topicGauge("switchyard_topic_events", "Events retained in the topic.", (t) => t.events);
    topicGauge("switchyard_topic_bytes", "Bytes retained in the topic.", (t) => t.bytes);
    topicGauge(
      "switchyard_topic_last_offset",
      "Last offset appended to the topic.",
      (t) => t.lastOffset,
    );
    const subGauge = (name: string, help: string, pick: (s: SubscriptionGauges) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["subscription", "topic"],
        registers,
        async collect() {
          const { subscriptions } = await snapshot();
          this.reset();
          for (const s of subscriptions) this.labels(s.config.name, s.config.topic).set(pick(s));
        },
      });
    subGauge(
      "switchyard_subscription_lag",
      "Events not yet acknowledged by the subscription.",
      (s) => s.stats.lag,
    );
    subGauge(
      "switchyard_subscription_in_flight",
      "Deliveries leased and not yet settled.",
      (s) => s.stats.inFlight,
    );
    subGauge(
      "switchyard_subscription_oldest_unacked_age_seconds",
      "Age of the oldest delivered, unacknowledged event.",
      (s) => s.stats.oldestUnackedAgeMs / 1000,
    );
    subGauge(
      "switchyard_subscription_dead_letter_depth",
      "Dead letters of the subscription not yet redriven and still retained (0 after a full redrive).",
      (s) => s.deadLetterDepth,
    );
    // A durable total the engine keeps: set at scrape time, though typed a counter.
    new Counter({
      name: "switchyard_dead_letters_total",
      help: "Events moved to the dead-letter topic (rejected or out of attempts), by subscription.",
      labelNames: ["subscription", "topic"],
      registers,
      async collect() {
        const { subscriptions } = await snapshot();
        this.reset();
        for (const s of subscriptions)
          this.labels(s.config.name, s.config.topic).inc(s.stats.deadLettered);
      },
    });
  }
}
