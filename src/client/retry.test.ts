import { describe, expect, it } from "vitest";
import { clientError, SwitchyardClientError } from "./errors.js";
import { isRetryable, retryDelay, withRetry } from "./retry.js";

const policy = { retries: 3, initialDelayMs: 100, maxDelayMs: 1_000 };

describe("retryDelay", () => {
  it("grows exponentially under full jitter and stops at maxDelayMs", () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, policy, undefined, () => 1))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    expect(retryDelay(3, policy, undefined, () => 0)).toBe(0);
  });

  it("waits at least as long as the router's Retry-After", () => {
    const busy = new SwitchyardClientError(
      { status: 429, code: "rate_limited" },
      { retryAfterMs: 700 },
    );
    expect(retryDelay(1, policy, busy, () => 0)).toBe(700);
  });
});

describe("isRetryable", () => {
  it("retries 5xx, 429 and unreachable routers, never other 4xx", () => {
    expect(isRetryable(clientError("unreachable", "down"))).toBe(true);
    expect(
      isRetryable(new SwitchyardClientError({ status: 503, code: "engine_unavailable" })),
    ).toBe(true);
    expect(isRetryable(new SwitchyardClientError({ status: 429, code: "rate_limited" }))).toBe(
      true,
    );
    expect(isRetryable(new SwitchyardClientError({ status: 404, code: "topic_not_found" }))).toBe(
      false,
    );
    expect(isRetryable(new Error("plain"))).toBe(false);
  });
});

describe("withRetry", () => {
  it("stops at the first non-retryable error", async () => {
    let calls = 0;
    const fail = withRetry(async () => {
      calls++;
      throw new SwitchyardClientError({ status: 400, code: "invalid_request" });
    }, policy);
    await expect(fail).rejects.toMatchObject({ code: "invalid_request" });
    expect(calls).toBe(1);
  });

  it("retries until success", async () => {
    let calls = 0;
    const value = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw clientError("unreachable", "down");
        return "ok";
      },
      { retries: 5, initialDelayMs: 1, maxDelayMs: 1 },
    );
    expect(value).toBe("ok");
    expect(calls).toBe(3);
  });
});
