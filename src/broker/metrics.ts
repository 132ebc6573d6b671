/**
 * What the broker counts, against a port the server backs with its Prometheus registry (the
 * broker does not depend on a metrics library). Each family caches one child per label
 * value, so an event costs a map lookup and an increment, never a new labels object.
 */

/** One labelled series of a counter. */
export interface CounterChild {
  inc(value?: number): void;
}

/** One labelled series of a histogram. */
export interface HistogramChild {
  observe(value: number): void;
}

/** A family declared by the broker: its stable name, help text and label names. */
export interface FamilySpec {
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
}

/** Makes the series of a family; `values` follow the spec's label order. */
export interface MetricsFactory {
  counter(spec: FamilySpec): (...values: string[]) => CounterChild;
  histogram(spec: FamilySpec): (...values: string[]) => HistogramChild;
}

const NOOP = { inc() {}, observe() {} };

/** Counts nothing: for brokers built without a registry (tools, engine-level tests). */
export const noMetrics: MetricsFactory = {
  counter: () => () => NOOP,
  histogram: () => () => NOOP,
};

/** A counter by one label (a topic or a subscription name). */
export class LabelledCounter {
  readonly #children = new Map<string, CounterChild>();
  readonly #make: (value: string) => CounterChild;

  constructor(factory: MetricsFactory, spec: FamilySpec) {
    this.#make = factory.counter(spec);
  }

  add(label: string, n = 1): void {
    let child = this.#children.get(label);
    if (child === undefined) {
      child = this.#make(label);
      this.#children.set(label, child);
    }
    child.inc(n);
  }
}

/** A counter by two labels (a topic and a reason). */
export class PairCounter {
  readonly #children = new Map<string, Map<string, CounterChild>>();
  readonly #make: (first: string, second: string) => CounterChild;

  constructor(factory: MetricsFactory, spec: FamilySpec) {
    this.#make = factory.counter(spec);
  }

  add(first: string, second: string, n = 1): void {
    let inner = this.#children.get(first);
    if (inner === undefined) {
      inner = new Map();
      this.#children.set(first, inner);
    }
    let child = inner.get(second);
    if (child === undefined) {
      child = this.#make(first, second);
      inner.set(second, child);
    }
    child.inc(n);
  }
}

/** A histogram by one label (a subscription name). */
export class LabelledHistogram {
  readonly #children = new Map<string, HistogramChild>();
  readonly #make: (value: string) => HistogramChild;

  constructor(factory: MetricsFactory, spec: FamilySpec) {
    this.#make = factory.histogram(spec);
  }

  observe(label: string, value: number): void {
    let child = this.#children.get(label);
    if (child === undefined) {
      child = this.#make(label);
      this.#children.set(label, child);
    }
    child.observe(value);
  }
}

const TOPIC = ["topic"] as const;
const SUBSCRIPTION = ["subscription"] as const;

/**
 * What this broker did since it started. Durable totals (dead letters, lag) come from the
 * engine's stats at scrape time instead; these are process-local rates.
 */
export class BrokerMetrics {
  /** Events appended (duplicates excluded), by topic. */
  readonly publishedEvents: LabelledCounter;
  /** Bytes of appended events, by topic. */
  readonly publishedBytes: LabelledCounter;
  /** Publishes answered `duplicate: true`, by topic. */
  readonly duplicateEvents: LabelledCounter;
  /** Deliveries handed out (pull and stream), by subscription. */
  readonly deliveries: LabelledCounter;
  /** Of those, handed back because the client never got them (not attempts), by subscription. */
  readonly released: LabelledCounter;
  /** Settles answered `ok`, by `subscription` and operation. */
  readonly acks: LabelledCounter;
  readonly nacks: LabelledCounter;
  readonly extends: LabelledCounter;
  readonly rejects: LabelledCounter;
  /** Push requests sent (a batch counts once), by subscription. */
  readonly pushRequests: LabelledCounter;
  /** Push requests that did not get a 2xx (errors, timeouts, refusals included), by subscription. */
  readonly pushFailures: LabelledCounter;
  /** Events acknowledged by a push endpoint, by subscription. */
  readonly pushedEvents: LabelledCounter;
  /**
   * Events appended under a topic's `warn` schema mode despite a problem, by topic and
   * reason (`data`, `not_json`, `dataschema`, `unknown_type`): the type is not a label, so
   * producers inventing types cannot grow the series.
   */
  readonly schemaViolations: PairCounter;
  /** Seconds from append to ack, observed per acked delivery (pull and push), by subscription. */
  readonly deliveryLatency: LabelledHistogram;

  constructor(factory: MetricsFactory = noMetrics) {
    const topic = (name: string, help: string) =>
      new LabelledCounter(factory, { name, help, labels: TOPIC });
    const sub = (name: string, help: string) =>
      new LabelledCounter(factory, { name, help, labels: SUBSCRIPTION });
    this.publishedEvents = topic(
      "switchyard_published_events_total",
      "Events appended, by topic (duplicates excluded).",
    );
    this.publishedBytes = topic(
      "switchyard_published_bytes_total",
      "Bytes of events appended, by topic.",
    );
    this.duplicateEvents = topic(
      "switchyard_duplicate_events_total",
      "Publishes dropped as duplicates inside the dedupe window, by topic.",
    );
    this.deliveries = sub(
      "switchyard_deliveries_total",
      "Deliveries handed out (pull and stream), by subscription.",
    );
    this.released = sub(
      "switchyard_deliveries_released_total",
      "Deliveries handed back unsent (client gone, write failed): no attempt used, by subscription.",
    );
    this.acks = sub("switchyard_acks_total", "Deliveries acknowledged, by subscription.");
    this.nacks = sub(
      "switchyard_nacks_total",
      "Deliveries negatively acknowledged, by subscription.",
    );
    this.extends = sub("switchyard_extends_total", "Lease extensions, by subscription.");
    this.rejects = sub(
      "switchyard_rejects_total",
      "Deliveries rejected straight to the dead-letter topic, by subscription.",
    );
    this.pushRequests = sub(
      "switchyard_push_requests_total",
      "Push requests sent (a batch counts once), by subscription.",
    );
    this.pushFailures = sub(
      "switchyard_push_failures_total",
      "Push requests answered with anything but 2xx, or not answered, by subscription.",
    );
    this.pushedEvents = sub(
      "switchyard_pushed_events_total",
      "Events acknowledged by a push endpoint, by subscription.",
    );
    this.schemaViolations = new PairCounter(factory, {
      name: "switchyard_schema_violations_total",
      help: "Events appended by a topic in schema mode warn despite failing the check, by topic and reason (data, not_json, dataschema, unknown_type).",
      labels: ["topic", "reason"],
    });
    this.deliveryLatency = new LabelledHistogram(factory, {
      name: "switchyard_delivery_latency_seconds",
      help: "Seconds from an event's append to the ack of its delivery (pull and push), by subscription.",
      labels: SUBSCRIPTION,
    });
  }
}
