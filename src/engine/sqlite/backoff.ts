import type { BackoffConfig } from "../../core/config.js";

/**
 * Delay before redelivering after a nack without `delayMs`: full jitter over
 * min(maxMs, initialMs * multiplier^(attempt-1)), i.e. uniformly random in [0, that].
 */
export function backoffDelayMs(
  backoff: BackoffConfig,
  attempt: number,
  random: () => number,
): number {
  const ceiling = Math.min(
    backoff.maxMs,
    backoff.initialMs * backoff.multiplier ** Math.max(0, attempt - 1),
  );
  return Math.floor(random() * (ceiling + 1));
}
