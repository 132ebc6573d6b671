import { describe, expect, it } from "vitest";
import { backoffCeilingMs, backoffDelayMs, parseRetryAfter, retryDelayMs } from "./backoff.js";

const config = { initialMs: 1000, maxMs: 600_000, multiplier: 2 };

describe("backoff", () => {
  it("grows exponentially from initialMs and stops at maxMs", () => {
    expect([1, 2, 3, 4].map((a) => backoffCeilingMs(a, config))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffCeilingMs(30, config)).toBe(600_000);
    expect(backoffCeilingMs(5000, config)).toBe(600_000);
  });

  it("draws full jitter between 0 and the ceiling", () => {
    expect(backoffDelayMs(3, config, () => 0)).toBe(0);
    expect(backoffDelayMs(3, config, () => 0.5)).toBe(2000);
    expect(backoffDelayMs(3, config, () => 0.999999)).toBe(4000);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(4, config);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });

  it("prefers Retry-After, even beyond maxMs, capped at an hour", () => {
    expect(retryDelayMs(1, config, 30_000, () => 0)).toBe(30_000);
    const short = { initialMs: 10, maxMs: 100, multiplier: 2 };
    expect(retryDelayMs(1, short, 5_000, () => 0)).toBe(5_000);
    expect(retryDelayMs(1, config, 10 ** 9, () => 0)).toBe(3_600_000);
    expect(retryDelayMs(1, { ...config, maxMs: 7_200_000 }, 10 ** 9, () => 0)).toBe(7_200_000);
    expect(retryDelayMs(2, config, null, () => 0.5)).toBe(1000);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("reads delay-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
  });

  it("reads an HTTP-date relative to now, past dates meaning now", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
  });

  it("ignores absent or malformed values", () => {
    for (const v of [null, undefined, "", "-5", "1.5", "soon", "12abc"])
      expect(parseRetryAfter(v, now)).toBeNull();
  });
});
