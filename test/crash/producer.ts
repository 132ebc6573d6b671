/**
 * One publisher of the crash test: batches of events over HTTP, each event with a unique id,
 * a `partitionkey` from this producer's own keys and a per-key sequence number in `data`.
 * Keys are not shared between producers, so each key's publish order is one loop's order.
 * A batch whose answer is lost (the router died) is retried with the same ids until it is
 * answered 201, before the next batch: dedupe must make the retry harmless.
 */
import { call, pause, RETRY_PAUSE_MS } from "./http.js";

export interface Confirmed {
  readonly id: string;
  readonly key: string;
  readonly seq: number;
  /** The offset the 201 answer gave. */
  readonly offset: number;
}

export interface ProducerStats {
  batches: number;
  events: number;
  /** Requests whose answer was lost (connection error, timeout, 5xx). */
  lostAnswers: number;
  /** Batches that needed at least one retry. */
  retriedBatches: number;
  /** Events that a retry found already stored (`duplicate: true`): the lost attempt had committed. */
  duplicatesOnRetry: number;
}

interface BatchEvent {
  readonly specversion: "1.0";
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly partitionkey: string;
  readonly data: { readonly key: string; readonly seq: number };
}

interface PublishAnswer {
  readonly events: readonly {
    readonly id: string;
    readonly offset: number;
    readonly duplicate: boolean;
  }[];
}

export const CRASH_SOURCE = "/crash-test";
const BATCH_SIZE = 50;
/** A batch still unanswered after this long fails the test (the router never came back). */
const BATCH_MAX_MS = 60_000;

export class Producer {
  readonly confirmed: Confirmed[] = [];
  readonly stats: ProducerStats = {
    batches: 0,
    events: 0,
    lostAnswers: 0,
    retriedBatches: 0,
    duplicatesOnRetry: 0,
  };
  readonly #name: string;
  readonly #url: string;
  readonly #keys: readonly string[];
  readonly #nextSeq = new Map<string, number>();
  #counter = 0;

  constructor(name: string, url: string, topic: string, keys: readonly string[]) {
    this.#name = name;
    this.#url = `${url}/v1/topics/${topic}/events`;
    this.#keys = keys;
  }

  /**
   * Publishes batch after batch until `stop()` answers true (the current batch finishes
   * first), pausing while `hold()` answers true (the consumer is too far behind).
   */
  async run(stop: () => boolean, hold: () => boolean): Promise<void> {
    while (!stop()) {
      if (hold()) await pause(RETRY_PAUSE_MS);
      else await this.#publish(this.#batch());
    }
  }

  #batch(): BatchEvent[] {
    return Array.from({ length: BATCH_SIZE }, () => {
      const key = this.#keys[Math.floor(Math.random() * this.#keys.length)] ?? "k";
      const seq = this.#nextSeq.get(key) ?? 0;
      this.#nextSeq.set(key, seq + 1);
      const id = `${this.#name}-${this.#counter++}`;
      return {
        specversion: "1.0",
        id,
        source: CRASH_SOURCE,
        type: "crash.test",
        partitionkey: key,
        data: { key, seq },
      };
    });
  }

  async #publish(batch: readonly BatchEvent[]): Promise<void> {
    const deadline = Date.now() + BATCH_MAX_MS;
    let attempts = 0;
    for (;;) {
      attempts++;
      const outcome = await call(this.#url, "POST", "application/cloudevents-batch+json", batch);
      if (outcome.kind === "answered") {
        if (outcome.status !== 201)
          throw new Error(`publish answered ${outcome.status}: ${JSON.stringify(outcome.body)}`);
        this.#record(batch, outcome.body as PublishAnswer, attempts > 1);
        return;
      }
      this.stats.lostAnswers++;
      if (Date.now() > deadline)
        throw new Error(`a batch went unanswered for ${BATCH_MAX_MS} ms: ${outcome.error}`);
      await pause(RETRY_PAUSE_MS);
    }
  }

  #record(batch: readonly BatchEvent[], answer: PublishAnswer, retried: boolean): void {
    if (answer.events.length !== batch.length)
      throw new Error(
        `publish answered ${answer.events.length} entries for ${batch.length} events`,
      );
    this.stats.batches++;
    this.stats.events += batch.length;
    if (retried) this.stats.retriedBatches++;
    batch.forEach((event, i) => {
      const entry = answer.events[i];
      if (entry?.id !== event.id)
        throw new Error(`publish answer ${i} is ${entry?.id}, expected ${event.id}`);
      if (entry.duplicate) {
        // Only a retry of a batch whose first answer was lost may find its events stored already.
        if (!retried) throw new Error(`event ${event.id} was a duplicate on its first attempt`);
        this.stats.duplicatesOnRetry++;
      }
      this.confirmed.push({
        id: event.id,
        key: event.data.key,
        seq: event.data.seq,
        offset: entry.offset,
      });
    });
  }
}
