/**
 * Load for the cluster fault test: publishers and pull consumers that spread their requests
 * over every Switchyard node and treat a lost answer (connection refused, timeout, 5xx) as
 * normal: the publisher retries the same events (same ids, so dedupe makes the retry safe)
 * on the next node, the consumer moves on to the next node.
 */

const TIMEOUT_MS = 20_000;
/** Ordering keys per publisher: key-ordered subscriptions have this many events in flight. */
const KEYS = 32;

type Answer = { readonly status: number; readonly body: unknown } | null;

async function call(url: string, method: string, type: string, body: unknown): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method,
      headers: { "content-type": type },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.status >= 500) return null;
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } catch {
    return null;
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LoadStats {
  lostAnswers: number;
  partialAnswers: number;
}

interface PublishEntry {
  readonly id: string;
  readonly offset?: number;
  readonly error?: unknown;
}

/** Publishes batches until `stop()`; `confirmed` holds every id answered with an offset. */
export class Publisher {
  readonly confirmed = new Set<string>();
  /** The offset each confirmed id was answered with, and when (for the report on a loss). */
  readonly answers = new Map<string, { readonly offset: number; readonly at: number }>();
  readonly stats: LoadStats = { lostAnswers: 0, partialAnswers: 0 };
  readonly #nodes: readonly string[];
  readonly #topic: string;
  readonly #label: string;
  #stopped = false;
  #next = 0;
  #done: Promise<void> = Promise.resolve();

  constructor(nodes: readonly string[], topic: string, label: string) {
    this.#nodes = nodes;
    this.#topic = topic;
    this.#label = label;
  }

  /** Publishes `batchSize` events at a time, pausing `pauseMs` between batches. */
  start(batchSize: number, pauseMs = 0): void {
    this.#done = this.#run(batchSize, pauseMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  async #run(batchSize: number, pauseMs: number): Promise<void> {
    for (let batch = 0; !this.#stopped; batch++) {
      if (pauseMs > 0) await pause(pauseMs);
      const events = Array.from({ length: batchSize }, (_, i) => ({
        specversion: "1.0",
        id: `${this.#label}-${batch}-${i}`,
        source: "/cluster-test",
        type: "cluster.test",
        partitionkey: `${this.#label}-${(batch * batchSize + i) % KEYS}`,
        data: { batch, i },
      }));
      await this.#publish(events);
    }
  }

  /** Until every event of the batch is stored: retries the rest on the next node. */
  async #publish(events: readonly { readonly id: string }[]): Promise<void> {
    let pending = events;
    while (pending.length > 0) {
      const node = this.#nodes[this.#next++ % this.#nodes.length] ?? "";
      const answer = await call(
        `${node}/v1/topics/${this.#topic}/events`,
        "POST",
        "application/cloudevents-batch+json",
        pending,
      );
      if (answer === null || (answer.status !== 201 && answer.status !== 207)) {
        this.stats.lostAnswers++;
        await pause(100);
        continue;
      }
      if (answer.status === 207) this.stats.partialAnswers++;
      const entries = (answer.body as { events: PublishEntry[] }).events;
      for (const entry of entries)
        if (entry.offset !== undefined) {
          this.confirmed.add(entry.id);
          this.answers.set(entry.id, { offset: entry.offset, at: Date.now() });
        }
      pending = pending.filter((e) => !this.confirmed.has(e.id));
      if (pending.length > 0) await pause(100);
    }
  }
}

interface DeliveryBody {
  readonly ackId: string;
  readonly event: { readonly id: string };
}

/** Pulls and acks one subscription round-robin over the nodes until `stop()`. */
export class Consumer {
  readonly delivered = new Set<string>();
  readonly stats: LoadStats = { lostAnswers: 0, partialAnswers: 0 };
  readonly #nodes: readonly string[];
  readonly #sub: string;
  #stopped = false;
  #next = 0;
  #done: Promise<void> = Promise.resolve();

  constructor(nodes: readonly string[], sub: string) {
    this.#nodes = nodes;
    this.#sub = sub;
  }

  start(): void {
    this.#done = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const node = this.#nodes[this.#next++ % this.#nodes.length] ?? "";
      const base = `${node}/v1/subscriptions/${this.#sub}`;
      const answer = await call(`${base}/pull`, "POST", "application/json", {
        max: 200,
        waitMs: 500,
      });
      if (answer === null || answer.status !== 200) {
        this.stats.lostAnswers++;
        await pause(100);
        continue;
      }
      const deliveries = (answer.body as { deliveries: DeliveryBody[] }).deliveries;
      for (const d of deliveries) this.delivered.add(d.event.id);
      if (deliveries.length === 0) continue;
      // An ack that is lost only means a redelivery: at least once is what is checked.
      const acked = await call(`${base}/ack`, "POST", "application/json", {
        ackIds: deliveries.map((d) => d.ackId),
      });
      if (acked === null) this.stats.lostAnswers++;
    }
  }
}
