/**
 * In-process wake-ups for waiting leases and tails: after a commit, the engine notifies the
 * topic appended to or the subscription whose deliveries changed, and every waiter on that
 * name resumes. Waiting never polls SQLite: a waiter sleeps until a notification, its
 * timeout, its signal or `close()`.
 */
type Waiter = () => void;

export class Notifier {
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #versions = new Map<string, number>();
  #closed = false;

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
   * Resolves on a notification of any key, after `timeoutMs`, on abort, or on close; at once
   * when a key was notified since `seen` (from `versions`) was taken.
   */
  wait(
    keys: readonly string[],
    seen: readonly number[] | null,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.#closed || signal?.aborted === true) return Promise.resolve();
    if (seen !== null && keys.some((key, i) => (this.#versions.get(key) ?? 0) !== seen[i]))
      return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        if (timer !== undefined) clearTimeout(timer);
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
      if (Number.isFinite(timeoutMs))
        timer = setTimeout(wake, Math.min(Math.max(0, timeoutMs), 2_147_483_647));
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
