import { describe, expect, it } from "vitest";
import type { SubscriptionConfig } from "../../core/config.js";
import type { Delivery } from "../../engine/engine.js";
import type { Verdict } from "./classify.js";
import { settlementFor } from "./settle-policy.js";

const now = 1_000_000;
const config = {
  maxAttempts: 3,
  backoff: { initialMs: 1000, maxMs: 60_000, multiplier: 2 },
  push: { maxAgeMs: null },
} as unknown as SubscriptionConfig;

function delivery(attempt: number, appendedAt = now): Delivery {
  return {
    ackId: "a",
    attempt,
    record: { topic: "t", offset: 1, appendedAt, key: null, body: "{}" },
  };
}

const retry: Verdict = { action: "retry", reason: "HTTP 503", retryAfterMs: null };

describe("settlementFor", () => {
  it("acks a 2xx, nacks a pause at once, rejects a dead-letter verdict with its reason", () => {
    expect(
      settlementFor({ config, delivery: delivery(1), verdict: { action: "ack" }, now }),
    ).toEqual({ op: "ack" });
    expect(
      settlementFor({
        config,
        delivery: delivery(1),
        verdict: { action: "pause", reason: "HTTP 410" },
        now,
      }),
    ).toEqual({ op: "nack", delayMs: 0 });
    expect(
      settlementFor({
        config,
        delivery: delivery(1),
        verdict: { action: "dead-letter", reason: "HTTP 422" },
        now,
      }),
    ).toEqual({ op: "reject", reason: "rejected by the endpoint: HTTP 422" });
  });

  it("retries with backoff below maxAttempts and dead-letters at it, naming the last answer", () => {
    expect(
      settlementFor({ config, delivery: delivery(2), verdict: retry, now, random: () => 0.5 }),
    ).toEqual({
      op: "nack",
      delayMs: 1000,
    });
    expect(settlementFor({ config, delivery: delivery(3), verdict: retry, now })).toEqual({
      op: "reject",
      reason: "max attempts (3) reached; last: HTTP 503",
    });
  });

  it("uses Retry-After, and dead-letters when the next try would pass maxAgeMs", () => {
    const withRetryAfter: Verdict = { ...retry, retryAfterMs: 30_000 };
    expect(settlementFor({ config, delivery: delivery(1), verdict: withRetryAfter, now })).toEqual({
      op: "nack",
      delayMs: 30_000,
    });
    const aged = { ...config, push: { maxAgeMs: 20_000 } } as unknown as SubscriptionConfig;
    expect(
      settlementFor({
        config: aged,
        delivery: delivery(1, now - 1000),
        verdict: withRetryAfter,
        now,
      }),
    ).toEqual({
      op: "reject",
      reason: "max age (20000 ms) reached; last: HTTP 503",
    });
  });
});
