import type { AttemptRecord, CursorStore } from "../../engine/engine.js";

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the acks of one subscription that arrive within `lingerMs` of each other (and
 * while the previous ack is committing) into one `ack` call, so a fast endpoint costs one
 * engine commit per group rather than per event. Each caller's promise settles with its group.
 */
export class AckBatcher {
  readonly #cursors: CursorStore;
  readonly #subscription: string;
  readonly #maxGroup: number;
  #ackIds: string[] = [];
  #records: AttemptRecord[] = [];
  #waiters: Waiter[] = [];
  #scheduled = false;
  #busy = false;
  #committing: Promise<void> = Promise.resolve();

  readonly #lingerMs: number;

  /**
   * `lingerMs`: how long the first ack of a group waits for company. Each group is one engine
   * commit (an fsync on durable engines), so a few milliseconds here buy large groups.
   */
  constructor(cursors: CursorStore, subscription: string, lingerMs = 10, maxGroup = 2_000) {
    this.#cursors = cursors;
    this.#subscription = subscription;
    this.#lingerMs = lingerMs;
    this.#maxGroup = maxGroup;
  }

  /** Resolves once the ack (and its attempt records) committed. */
  ack(ackIds: readonly string[], records: readonly AttemptRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#ackIds.push(...ackIds);
      this.#records.push(...records);
      this.#waiters.push({ resolve, reject });
      if (this.#ackIds.length >= this.#maxGroup) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setTimeout(() => this.#flush(), this.#lingerMs);
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#busy || this.#ackIds.length === 0) return;
    const ackIds = this.#ackIds;
    const records = this.#records;
    const waiters = this.#waiters;
    this.#ackIds = [];
    this.#records = [];
    this.#waiters = [];
    // One commit at a time: acks arriving meanwhile wait and form the next, larger group.
    this.#busy = true;
    this.#committing = this.#commit(ackIds, records, waiters).finally(() => {
      this.#busy = false;
      this.#flush();
    });
  }

  async #commit(ackIds: string[], records: AttemptRecord[], waiters: Waiter[]): Promise<void> {
    try {
      await this.#cursors.ack(this.#subscription, ackIds, records);
      for (const w of waiters) w.resolve();
    } catch (error) {
      for (const w of waiters) w.reject(error);
    }
  }

  /** Waits until every ack handed in so far has committed or failed. */
  async drain(): Promise<void> {
    this.#flush();
    while (this.#busy || this.#ackIds.length > 0) {
      await this.#committing;
      this.#flush();
    }
  }
}
