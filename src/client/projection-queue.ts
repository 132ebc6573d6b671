import type { StoredEvent } from "../core/event.js";
import type { ApplyOutcome } from "./projection-store.js";

interface Waiting {
  readonly event: StoredEvent;
  readonly resolve: (outcome: ApplyOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the events handed in during one turn of the event loop into one store transaction
 * (at most `maxBatch`), one transaction at a time. When a batch fails, its events are tried
 * one per transaction, so one failing handler rolls back only its own event.
 */
export class ApplyQueue {
  readonly #apply: (events: readonly StoredEvent[]) => Promise<readonly ApplyOutcome[]>;
  readonly #maxBatch: number;
  #waiting: Waiting[] = [];
  #draining = false;
  #idle: (() => void)[] = [];

  constructor(
    apply: (events: readonly StoredEvent[]) => Promise<readonly ApplyOutcome[]>,
    maxBatch: number,
  ) {
    this.#apply = apply;
    this.#maxBatch = Math.max(1, Math.floor(maxBatch));
  }

  /** Resolves once `event` is committed (or was found applied before). */
  submit(event: StoredEvent): Promise<ApplyOutcome> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ event, resolve, reject });
      if (this.#draining) return;
      this.#draining = true;
      setImmediate(() => void this.#drain());
    });
  }

  get pending(): number {
    return this.#waiting.length + (this.#draining ? 1 : 0);
  }

  /** Resolves when nothing is waiting or being applied. */
  idle(): Promise<void> {
    if (!this.#draining) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#maxBatch);
      try {
        const outcomes = await this.#apply(batch.map((w) => w.event));
        for (const [i, waiting] of batch.entries()) waiting.resolve(outcomes[i] ?? "applied");
      } catch (error) {
        if (batch.length === 1) batch[0]?.reject(error);
        else for (const waiting of batch) await this.#alone(waiting);
      }
    }
    this.#draining = false;
    for (const wake of this.#idle.splice(0)) wake();
  }

  async #alone(waiting: Waiting): Promise<void> {
    try {
      const [outcome] = await this.#apply([waiting.event]);
      waiting.resolve(outcome ?? "applied");
    } catch (error) {
      waiting.reject(error);
    }
  }
}
