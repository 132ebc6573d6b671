import type { BackoffConfig } from "../../core/config.js";

/**
 * Retry delays: exponential growth capped at `maxMs`, with full jitter (a uniform draw
 * between 0 and the cap, as in AWS's "Exponential Backoff and Jitter"), so a crowd of
 * failed deliveries does not return to a recovering endpoint all at once.
 */

/** The ceiling of the delay before attempt `attempt + 1`, after `attempt` failed (1-based). */
export function backoffCeilingMs(attempt: number, config: BackoffConfig): number {
  const exponent = Math.max(0, attempt - 1);
  const grown = config.initialMs * config.multiplier ** exponent;
  return Math.min(config.maxMs, Number.isFinite(grown) ? grown : config.maxMs);
}

/** A full-jitter delay in [0, ceiling]; `random` returns [0, 1) like `Math.random`. */
export function backoffDelayMs(
  attempt: number,
  config: BackoffConfig,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * (backoffCeilingMs(attempt, config) + 1));
}

const DELAY_SECONDS = /^\s*(\d{1,10})\s*$/;

/**
 * A `Retry-After` header (delay-seconds or HTTP-date, RFC 9110 §10.2.3) as milliseconds
 * from `now`; null when absent or unparseable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (value === null || value === undefined) return null;
  const seconds = DELAY_SECONDS.exec(value);
  if (seconds) return Number(seconds[1]) * 1000;
  if (!/[a-z]/i.test(value)) return null; // Date.parse accepts bare numbers; HTTP-dates have names
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** The longest `Retry-After` honoured (unless the backoff's own `maxMs` is longer). */
export const RETRY_AFTER_CAP_MS = 3_600_000;

/**
 * The delay before the next attempt: the endpoint's `Retry-After` when it gave one (capped at
 * an hour or the backoff's `maxMs` if longer, so an endpoint cannot park an event for a year),
 * else the backoff.
 */
export function retryDelayMs(
  attempt: number,
  config: BackoffConfig,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== null)
    return Math.min(retryAfterMs, Math.max(config.maxMs, RETRY_AFTER_CAP_MS));
  return backoffDelayMs(attempt, config, random);
}
