import { SwitchyardClientError } from "./errors.js";

export interface RetryPolicy {
  /** Further tries after the first one; 0 disables retrying. */
  readonly retries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 8, initialDelayMs: 50, maxDelayMs: 5_000 };

/**
 * Delay before retry number `retry` (1-based): exponential with full jitter, so many clients
 * that failed together do not come back together. A router's `Retry-After` wins when longer.
 */
export function retryDelay(
  retry: number,
  policy: RetryPolicy,
  error?: unknown,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.round(random() * ceiling);
  const asked = error instanceof SwitchyardClientError ? (error.retryAfterMs ?? 0) : 0;
  return Math.max(jittered, Math.min(asked, policy.maxDelayMs * 4));
}

export function isRetryable(error: unknown): boolean {
  return error instanceof SwitchyardClientError && error.retryable;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Calls `fn` until it succeeds, fails with a non-retryable error, or retries run out. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<T> {
  for (let retry = 1; ; retry++) {
    try {
      return await fn();
    } catch (error) {
      if (retry > policy.retries || !isRetryable(error) || signal?.aborted) throw error;
      await sleep(retryDelay(retry, policy, error), signal);
    }
  }
}
