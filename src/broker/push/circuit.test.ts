import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "./circuit.js";

function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("CircuitBreaker", () => {
  const options = { failureThreshold: 3, openMs: 1000, maxOpenMs: 4000 };

  it("stays closed below the threshold and any success resets the count", () => {
    const breaker = new CircuitBreaker(manualClock(), options);
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe("closed");
    expect(breaker.allowance(500)).toBe(Number.POSITIVE_INFINITY);
    breaker.recordSuccess();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe("closed");
    expect(breaker.consecutiveFailures).toBe(2);
  });

  it("opens after N consecutive failures, then probes one delivery at a time", () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker(clock, options);
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    expect(breaker.state).toBe("open");
    expect(breaker.allowance(0)).toBe(0);
    expect(breaker.msUntilProbe()).toBe(1000);
    clock.advance(1000);
    expect(breaker.state).toBe("half-open");
    expect(breaker.allowance(0)).toBe(1);
    expect(breaker.allowance(1)).toBe(0);
    breaker.recordSuccess();
    expect(breaker.state).toBe("closed");
    expect(breaker.consecutiveFailures).toBe(0);
  });

  it("doubles the cool-down after each failed probe, up to maxOpenMs", () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker(clock, options);
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    const cooldowns: number[] = [];
    for (let probe = 0; probe < 4; probe++) {
      cooldowns.push(breaker.msUntilProbe());
      clock.advance(breaker.msUntilProbe());
      expect(breaker.state).toBe("half-open");
      breaker.recordFailure();
    }
    expect(cooldowns).toEqual([1000, 2000, 4000, 4000]);
  });

  it("does not extend the cool-down for stragglers failing while open", () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker(clock, options);
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    clock.advance(500);
    breaker.recordFailure();
    expect(breaker.msUntilProbe()).toBe(500);
  });

  it("counts a refusal of one event for health but never trips on it", () => {
    const breaker = new CircuitBreaker(manualClock(), options);
    for (let i = 0; i < 10; i++) breaker.recordFailure(false);
    expect(breaker.state).toBe("closed");
    expect(breaker.consecutiveFailures).toBe(10);
    breaker.recordFailure(); // an endpoint fault on top still trips at the threshold
    expect(breaker.state).toBe("open");
  });

  it("closes when a probe gets an answer, even a refusal", () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker(clock, options);
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    clock.advance(breaker.msUntilProbe());
    expect(breaker.state).toBe("half-open");
    breaker.recordFailure(false);
    expect(breaker.state).toBe("closed");
    expect(breaker.consecutiveFailures).toBe(4);
  });
});
