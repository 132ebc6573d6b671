import { describe, expect, it } from "vitest";
import type { KeyRecord, RateLimit } from "../../broker/keys.js";
import { isSwitchyardError } from "../../core/errors.js";
import { RateLimiter, TokenBucket } from "./rate-limit.js";

const fakeClock = (start = 1_000_000) => {
  const clock = { t: start, now: () => clock.t };
  return clock;
};

const recordOf = (id: string, rateLimit: RateLimit | null): KeyRecord => ({
  id,
  name: id,
  scopes: [],
  createdAt: 0,
  expiresAt: null,
  rateLimit,
  lastUsedAt: null,
});

/** The Retry-After of a refusal, or 0 when admitted. */
function waitOf(admit: () => void): number {
  try {
    admit();
    return 0;
  } catch (error) {
    if (!isSwitchyardError(error) || error.code !== "rate_limited") throw error;
    expect(error.status).toBe(429);
    return error.retryAfterSeconds ?? Number.NaN;
  }
}

describe("TokenBucket", () => {
  it("holds 1 s of its rate, then refuses with a wait of at least 1 s", () => {
    const bucket = new TokenBucket(5, 0);
    for (let i = 0; i < 5; i++) expect(bucket.take(1, 0)).toBe(0);
    expect(bucket.take(1, 0)).toBe(1);
    expect(bucket.take(1, 100)).toBe(0); // 0.5 tokens back: not empty, so admitted (→ -0.5)
    expect(bucket.take(1, 150)).toBe(1); // -0.25
    expect(bucket.take(1, 199)).toBe(1); // -0.005: still empty
    expect(bucket.take(1, 201)).toBe(0); // +0.005: admitted
  });

  it("admits a batch larger than the bucket once, then waits out the debt", () => {
    const bucket = new TokenBucket(1_000, 0);
    expect(bucket.take(5_000, 0)).toBe(0); // tokens: -4,000
    expect(bucket.take(1, 0)).toBe(5); // back at 0 after 4 s; above it only after
    expect(bucket.take(1, 3_999)).toBe(1);
    expect(bucket.take(1, 4_000)).toBe(1); // exactly 0 is still empty
    expect(bucket.take(1, 4_001)).toBe(0);
  });

  it("refills continuously, never above its capacity", () => {
    const bucket = new TokenBucket(10, 0);
    for (let i = 0; i < 10; i++) bucket.take(1, 0);
    expect(bucket.take(1, 0)).toBeGreaterThan(0);
    expect(bucket.take(1, 100)).toBe(0); // 1 token back after 100 ms
    // A long idle spell refills to 10, not to 100: 10 admitted, the 11th refused.
    let admitted = 0;
    while (bucket.take(1, 100_000) === 0) admitted++;
    expect(admitted).toBe(10);
  });

  it("works with rates below one per second", () => {
    const bucket = new TokenBucket(0.5, 0);
    expect(bucket.take(1, 0)).toBe(0); // 0.5 → -0.5
    expect(bucket.take(1, 500)).toBe(1);
    expect(bucket.take(1, 1_001)).toBe(0);
  });

  it("ignores a clock that steps back", () => {
    const bucket = new TokenBucket(1, 10_000);
    expect(bucket.take(1, 10_000)).toBe(0);
    expect(bucket.take(1, 5_000)).toBe(1);
    expect(bucket.take(1, 10_001)).toBe(0);
  });
});

describe("RateLimiter", () => {
  it("keeps requests and events in separate buckets per key", () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ isLive: () => true, clock });
    const a = recordOf("a", { requestsPerSec: 2, eventsPerSec: 100 });
    const b = recordOf("b", { requestsPerSec: 2 });
    expect(waitOf(() => limiter.admitRequest(a))).toBe(0);
    expect(waitOf(() => limiter.admitRequest(a))).toBe(0);
    expect(waitOf(() => limiter.admitRequest(a))).toBe(1);
    expect(waitOf(() => limiter.admitEvents(a, 500))).toBe(0);
    expect(waitOf(() => limiter.admitEvents(a, 1))).toBe(5);
    expect(waitOf(() => limiter.admitRequest(b))).toBe(0);
    // b has no events limit: it never pays for events.
    for (let i = 0; i < 10; i++) expect(waitOf(() => limiter.admitEvents(b, 1_000))).toBe(0);
  });

  it("charges nothing to a key without limits and holds no bucket for it", () => {
    const limiter = new RateLimiter({ isLive: () => true, clock: fakeClock() });
    const free = recordOf("free", null);
    for (let i = 0; i < 1_000; i++) {
      limiter.admitRequest(free);
      limiter.admitEvents(free, 1_000);
    }
    expect(limiter.size).toBe(0);
  });

  it("names the key and its limit, and says when to retry", () => {
    const limiter = new RateLimiter({ isLive: () => true, clock: fakeClock() });
    const a = recordOf("akey", { eventsPerSec: 10 });
    limiter.admitEvents(a, 30);
    expect(() => limiter.admitEvents(a, 1)).toThrow(
      /akey is over its rate limit of 10 events\/s on this router; retry in 3 s/,
    );
  });

  it("starts afresh when a key's limits change", () => {
    const limiter = new RateLimiter({ isLive: () => true, clock: fakeClock() });
    limiter.admitRequest(recordOf("k", { requestsPerSec: 1 }));
    expect(waitOf(() => limiter.admitRequest(recordOf("k", { requestsPerSec: 1 })))).toBe(1);
    expect(waitOf(() => limiter.admitRequest(recordOf("k", { requestsPerSec: 2 })))).toBe(0);
  });

  it("drops the buckets of keys that left the view or expired", () => {
    const clock = fakeClock();
    const live = new Set(["a", "b"]);
    const limiter = new RateLimiter({ isLive: (id) => live.has(id), clock });
    limiter.admitRequest(recordOf("a", { requestsPerSec: 1 }));
    limiter.admitRequest(recordOf("b", { requestsPerSec: 1 }));
    expect(limiter.size).toBe(2);
    live.delete("a");
    clock.t += 1_000;
    limiter.admitRequest(recordOf("b", { requestsPerSec: 1 }));
    expect(limiter.size).toBe(1);
  });
});
