/** What a truthy check lets through. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

export interface WaitForOptions {
  /** Real milliseconds to wait at most; default 5000. */
  readonly timeoutMs?: number;
  /** Real milliseconds between tries; default 5. */
  readonly intervalMs?: number;
}

/**
 * Tries `predicate` until it returns something truthy and resolves with that; a falsy answer
 * or a throw means "not yet". Waits in real time: it is for outcomes that travel over real
 * sockets (a handler running, a webhook arriving), not for the manual clock, which only
 * `advance` moves. Past `timeoutMs` it rejects, carrying the last throw as `cause`.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Truthy<T>> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  let failure: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as Truthy<T>;
    } catch (error) {
      failure = error;
    }
    if (Date.now() >= deadline)
      throw new Error(`waitFor: the condition did not hold within ${timeoutMs} ms`, {
        cause: failure,
      });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
