import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limiter.js";

function manualClock() {
  let now = 0;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("RateLimiter", () => {
  it("allows one second's worth at once, then refills at the rate", () => {
    const clock = manualClock();
    const limiter = new RateLimiter(10, clock);
    expect(limiter.available()).toBe(10);
    limiter.take(10);
    expect(limiter.available()).toBe(0);
    expect(limiter.msUntilToken()).toBe(100);
    clock.advance(250);
    expect(limiter.available()).toBe(2);
    clock.advance(60_000);
    expect(limiter.available()).toBe(10);
  });

  it("meters a steady stream at the configured rate", () => {
    const clock = manualClock();
    const limiter = new RateLimiter(50, clock);
    let sent = 0;
    for (let t = 0; t < 10_000; t += 7) {
      const n = limiter.available();
      limiter.take(n);
      sent += n;
      clock.advance(7);
    }
    // 50 at once, then 50/s for 10 s.
    expect(sent).toBeGreaterThanOrEqual(540);
    expect(sent).toBeLessThanOrEqual(551);
  });
});
