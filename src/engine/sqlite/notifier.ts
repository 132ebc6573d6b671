/**
 * In-process wake-ups for waiting leases and tails: after a commit, the engine notifies the
 * topic appended to or the subscription whose deliveries changed, and every waiter on that
 * name resumes. Waiting never polls SQLite: a waiter sleeps until a notification, its
 * deadline, the moment a row falls due, its signal or `close()`.
 *
 * Two clocks: the deadline is real time (how long a caller's long poll stays open), the due
 * moment is the engine clock's (a lease expiring, a nack delay elapsing), so a test clock that
 * jumps past it wakes the waiter without real waiting.
 */
import type { Clock, Timer } from "../../core/clock.js";

type Waiter = () => void;

export interface WaitBounds {
  /** Real milliseconds to wait at most; Infinity: no deadline. */
  readonly waitMs: number;
  /** Milliseconds of engine-clock time until something falls due; null: nothing will. */
  readonly dueInMs?: number | null;
  readonly signal?: AbortSignal | undefined;
}

export class Notifier {
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #versions = new Map<string, number>();
  readonly #clock: Clock;
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  notify(key: string): void {
    this.#versions.set(key, (this.#versions.get(key) ?? 0) + 1);
    const waiters = this.#waiters.get(key);
    if (waiters === undefined) return;
    this.#waiters.delete(key);
    for (const wake of waiters) wake();
  }

  /** How many notifications each key has had; pass to `wait` to miss none in between. */
  versions(keys: readonly string[]): number[] {
    return keys.map((key) => this.#versions.get(key) ?? 0);
  }

  /**
   * Resolves on a notification of any key, at the deadline, when something falls due, on
   * abort, or on close; at once when a key was notified since `seen` (from `versions`) was taken.
   */
  wait(keys: readonly string[], seen: readonly number[] | null, bounds: WaitBounds): Promise<void> {
    const { signal } = bounds;
    if (this.#closed || signal?.aborted === true) return Promise.resolve();
    if (seen !== null && keys.some((key, i) => (this.#versions.get(key) ?? 0) !== seen[i]))
      return Promise.resolve();
    return new Promise((resolve) => {
      let deadline: NodeJS.Timeout | undefined;
      let due: Timer | undefined;
      const wake = (): void => {
        clearTimeout(deadline);
        due?.cancel();
        signal?.removeEventListener("abort", wake);
        for (const key of keys) this.#waiters.get(key)?.delete(wake);
        resolve();
      };
      for (const key of keys) {
        let set = this.#waiters.get(key);
        if (set === undefined) {
          set = new Set();
          this.#waiters.set(key, set);
        }
        set.add(wake);
      }
      signal?.addEventListener("abort", wake, { once: true });
      if (Number.isFinite(bounds.waitMs))
        deadline = setTimeout(wake, Math.min(Math.max(0, bounds.waitMs), 2_147_483_647));
      // Set even when the deadline comes first in real time: a test clock may get there sooner.
      if (bounds.dueInMs != null) due = this.#clock.setTimeout(wake, bounds.dueInMs);
    });
  }

  /** Wakes every waiter; later waits resolve at once. */
  close(): void {
    this.#closed = true;
    const all = [...this.#waiters.values()].flatMap((set) => [...set]);
    this.#waiters.clear();
    for (const wake of all) wake();
  }
}

export const topicKey = (topic: string): string => `topic:${topic}`;
export const subscriptionKey = (sub: string): string => `subscription:${sub}`;
