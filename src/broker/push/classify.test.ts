import { describe, expect, it } from "vitest";
import { classifyOutcome, isEndpointFault, outcomeReason } from "./classify.js";
import type { PushOutcome } from "./sender.js";

const now = Date.parse("2026-01-01T00:00:00Z");

function response(status: number, body = "", retryAfter: string | null = null): PushOutcome {
  return { kind: "response", status, body, retryAfter, latencyMs: 3 };
}

describe("classifyOutcome", () => {
  it("acknowledges any 2xx", () => {
    for (const status of [200, 201, 202, 204, 299])
      expect(classifyOutcome(response(status), "retry", now)).toEqual({ action: "ack" });
  });

  it("retries 408, 429 and 5xx, honouring Retry-After", () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599])
      expect(classifyOutcome(response(status), "dead-letter", now).action).toBe("retry");
    expect(classifyOutcome(response(429, "", "7"), "retry", now)).toMatchObject({
      action: "retry",
      retryAfterMs: 7000,
    });
    expect(
      classifyOutcome(response(503, "", "Thu, 01 Jan 2026 00:01:00 GMT"), "retry", now),
    ).toMatchObject({ retryAfterMs: 60_000 });
  });

  it("retries connection errors and timeouts", () => {
    const outcome: PushOutcome = {
      kind: "error",
      error: "timeout",
      message: "request timeout",
      latencyMs: 1,
    };
    expect(classifyOutcome(outcome, "dead-letter", now)).toEqual({
      action: "retry",
      reason: "timeout: request timeout",
      retryAfterMs: null,
    });
  });

  it("treats 3xx as a failure and says redirects are not followed", () => {
    const verdict = classifyOutcome(response(302), "dead-letter", now);
    expect(verdict).toMatchObject({ action: "retry" });
    expect(verdict.action === "retry" && verdict.reason).toMatch(/HTTP 302.*not followed/);
  });

  it("pauses on 410 Gone", () => {
    expect(classifyOutcome(response(410, "gone"), "retry", now)).toEqual({
      action: "pause",
      reason: "HTTP 410: gone",
    });
  });

  it("retries other 4xx by default, dead-letters them when the subscription says so", () => {
    for (const status of [400, 401, 403, 404, 409, 422]) {
      expect(classifyOutcome(response(status), "retry", now).action).toBe("retry");
      expect(classifyOutcome(response(status), "dead-letter", now).action).toBe("dead-letter");
    }
  });
});

describe("isEndpointFault", () => {
  it("blames the endpoint for errors, 3xx, 408, 429 and 5xx, not for refusing one event", () => {
    const error: PushOutcome = {
      kind: "error",
      error: "timeout",
      message: "request timeout",
      latencyMs: 5,
    };
    expect(isEndpointFault(error)).toBe(true);
    for (const status of [301, 408, 429, 500, 503])
      expect(isEndpointFault(response(status))).toBe(true);
    for (const status of [200, 400, 404, 410, 413, 422, 431])
      expect(isEndpointFault(response(status))).toBe(false);
  });
});

describe("outcomeReason", () => {
  it("quotes the start of the body on one line", () => {
    expect(outcomeReason(response(500, "boom\n  at line 2"))).toBe("HTTP 500: boom at line 2");
    expect(outcomeReason(response(500, "x".repeat(1000)))).toHaveLength("HTTP 500: ".length + 200);
    expect(outcomeReason(response(503))).toBe("HTTP 503");
  });
});
