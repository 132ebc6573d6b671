/**
 * Retry settings shared by the demo's subscriptions: quick retries (0.2 s doubling up to 2 s)
 * so a reader can watch a failure heal in seconds; production would keep the defaults
 * (1 s doubling up to 10 min).
 */
export const RETRIES = {
  maxAttempts: 50,
  backoff: { initialMs: 200, multiplier: 2, maxMs: 2_000 },
} as const;
