import type { SubscriptionConfig } from "../../core/config.js";
import type { Delivery } from "../../engine/engine.js";
import { retryDelayMs } from "./backoff.js";
import type { Verdict } from "./classify.js";

/**
 * What to do with one delivery after an attempt: the broker's dead-letter policy. The engine
 * moves events to the dead-letter topic; this decides when, and with which reason (always
 * naming the last answer, so the dead letter says why).
 */

export type Settlement =
  | { readonly op: "ack" }
  | { readonly op: "nack"; readonly delayMs: number }
  | { readonly op: "reject"; readonly reason: string };

export interface PolicyInput {
  readonly config: SubscriptionConfig;
  readonly delivery: Delivery;
  readonly verdict: Verdict;
  readonly now: number;
  readonly random?: () => number;
}

export function settlementFor(input: PolicyInput): Settlement {
  const { verdict, now } = input;
  switch (verdict.action) {
    case "ack":
      return { op: "ack" };
    case "pause":
      // The event waits for the resume; its attempt is spent, its place kept.
      return { op: "nack", delayMs: 0 };
    case "dead-letter":
      return { op: "reject", reason: `rejected by the endpoint: ${verdict.reason}` };
    case "retry":
      return retryOrReject(input, verdict.reason, verdict.retryAfterMs, now);
  }
}

function retryOrReject(
  input: PolicyInput,
  reason: string,
  retryAfterMs: number | null,
  now: number,
): Settlement {
  const { config, delivery } = input;
  if (delivery.attempt >= config.maxAttempts)
    return {
      op: "reject",
      reason: `max attempts (${config.maxAttempts}) reached; last: ${reason}`,
    };
  const delayMs = retryDelayMs(delivery.attempt, config.backoff, retryAfterMs, input.random);
  const maxAgeMs = config.push?.maxAgeMs;
  if (maxAgeMs != null && now + delayMs - delivery.record.appendedAt > maxAgeMs)
    return { op: "reject", reason: `max age (${maxAgeMs} ms) reached; last: ${reason}` };
  return { op: "nack", delayMs };
}
