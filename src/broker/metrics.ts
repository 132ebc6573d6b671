/** Counters by label (a topic or subscription name), read by the server's `/metrics`. */
export class LabelledCounter {
  readonly #values = new Map<string, number>();

  add(label: string, n = 1): void {
    this.#values.set(label, (this.#values.get(label) ?? 0) + n);
  }

  entries(): IterableIterator<[string, number]> {
    return this.#values.entries();
  }
}

/** Counters by two labels (a topic and a reason), read by the server's `/metrics`. */
export class PairCounter {
  readonly #values = new Map<string, Map<string, number>>();

  add(first: string, second: string, n = 1): void {
    let inner = this.#values.get(first);
    if (inner === undefined) {
      inner = new Map();
      this.#values.set(first, inner);
    }
    inner.set(second, (inner.get(second) ?? 0) + n);
  }

  *entries(): IterableIterator<[string, string, number]> {
    for (const [first, inner] of this.#values)
      for (const [second, n] of inner) yield [first, second, n];
  }
}

/**
 * What this broker did since it started. Durable totals (dead letters, lag) come from the
 * engine's stats at scrape time instead; these are process-local rates.
 */
export class BrokerMetrics {
  /** Events appended (duplicates excluded), by topic. */
  readonly publishedEvents = new LabelledCounter();
  /** Bytes of appended events, by topic. */
  readonly publishedBytes = new LabelledCounter();
  /** Publishes answered `duplicate: true`, by topic. */
  readonly duplicateEvents = new LabelledCounter();
  /** Deliveries handed out (pull and stream), by subscription. */
  readonly deliveries = new LabelledCounter();
  /** Of those, handed back because the client never got them (not attempts), by subscription. */
  readonly released = new LabelledCounter();
  /** Settles answered `ok`, by `subscription` and operation. */
  readonly acks = new LabelledCounter();
  readonly nacks = new LabelledCounter();
  readonly extends = new LabelledCounter();
  readonly rejects = new LabelledCounter();
  /** Push requests sent (a batch counts once), by subscription. */
  readonly pushRequests = new LabelledCounter();
  /** Push requests that did not get a 2xx (errors, timeouts, refusals included), by subscription. */
  readonly pushFailures = new LabelledCounter();
  /** Events acknowledged by a push endpoint, by subscription. */
  readonly pushedEvents = new LabelledCounter();
  /**
   * Events appended under a topic's `warn` schema mode despite a problem, by topic and
   * reason (`data`, `not_json`, `dataschema`, `unknown_type`): the type is not a label, so
   * producers inventing types cannot grow the series.
   */
  readonly schemaViolations = new PairCounter();
}
