import { parseRetryAfter } from "./backoff.js";
import type { PushOutcome } from "./sender.js";

/**
 * What one push attempt's outcome means. Any 2xx acknowledges. 408, 429, 5xx, connection
 * errors and timeouts are retried (honouring `Retry-After`). A 3xx is a failure and is never
 * followed (a redirect could point anywhere, including past the SSRF guard). 410 Gone pauses
 * the subscription. Other 4xx are retried by default, or dead-lettered at once when the
 * subscription's `onClientError` is "dead-letter".
 */

export type Verdict =
  | { readonly action: "ack" }
  | { readonly action: "retry"; readonly reason: string; readonly retryAfterMs: number | null }
  | { readonly action: "dead-letter"; readonly reason: string }
  | { readonly action: "pause"; readonly reason: string };

export type ClientErrorPolicy = "retry" | "dead-letter";

/** Characters of the response body quoted in a failure reason. */
const REASON_BODY_CHARS = 200;

/** A one-line reason: "HTTP 503: body…", "timeout: request timeout", "connection: …". */
export function outcomeReason(outcome: PushOutcome): string {
  if (outcome.kind === "error") return `${outcome.error}: ${outcome.message}`;
  const body = outcome.body.replace(/\s+/g, " ").trim().slice(0, REASON_BODY_CHARS);
  return body === "" ? `HTTP ${outcome.status}` : `HTTP ${outcome.status}: ${body}`;
}

/**
 * Whether an outcome says the endpoint is unwell (down, slow, overloaded, misrouted) rather
 * than that it refused this one event. Only these trip the circuit: a 4xx such as 413 or
 * 431 for one oversized event comes from an endpoint that is up, and holding every other
 * event back for its cool-downs would let one poison event stall a healthy subscription.
 */
export function isEndpointFault(outcome: PushOutcome): boolean {
  if (outcome.kind === "error") return true;
  const { status } = outcome;
  return isRetriedStatus(status) || status < 200 || (status >= 300 && status < 400);
}

function isRetriedStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function classifyOutcome(
  outcome: PushOutcome,
  onClientError: ClientErrorPolicy,
  now: number,
): Verdict {
  const reason = outcomeReason(outcome);
  if (outcome.kind === "error") return { action: "retry", reason, retryAfterMs: null };
  const { status } = outcome;
  if (status >= 200 && status < 300) return { action: "ack" };
  if (status === 410) return { action: "pause", reason };
  if (status >= 300 && status < 400) {
    return {
      action: "retry",
      reason: `${reason} (redirects are not followed)`,
      retryAfterMs: null,
    };
  }
  const retryAfterMs = parseRetryAfter(outcome.retryAfter, now);
  if (isRetriedStatus(status) || status < 200) return { action: "retry", reason, retryAfterMs };
  if (onClientError === "dead-letter") return { action: "dead-letter", reason };
  return { action: "retry", reason, retryAfterMs };
}
