/**
 * Polls until `fn` stops throwing (or returns without rejecting), then resolves with its
 * value; after `timeoutMs` rethrows the last failure. Tests wait for conditions with this
 * instead of sleeping, so they pass as soon as the condition holds and fail with the real
 * assertion message when it never does.
 */
export interface EventuallyOptions {
  /** Give up after this long; default 5000 ms. */
  readonly timeoutMs?: number;
  /** Pause between attempts; default 20 ms. */
  readonly intervalMs?: number;
}

export async function eventually<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 20 }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
