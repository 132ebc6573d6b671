import { describe, expect, it } from "vitest";
import { SwitchyardError } from "../core/errors.js";
import { SwitchyardClientError } from "./errors.js";
import { HttpTransport } from "./http.js";

function transport(response: () => Response | Promise<Response>): HttpTransport {
  return new HttpTransport({
    url: "http://router/",
    fetch: async () => response(),
    requestTimeoutMs: 1_000,
    headers: {},
  });
}

describe("SwitchyardClientError", () => {
  it("carries the router's code, status and field errors, and is a SwitchyardError", async () => {
    const http = transport(
      () =>
        new Response(
          JSON.stringify({
            type: "https://switchyard.dev/problems/invalid-name",
            title: "Invalid name",
            status: 400,
            code: "invalid_name",
            detail: "topic name must match",
            errors: [{ pointer: "topic", message: "must match" }],
          }),
          { status: 400, headers: { "content-type": "application/problem+json" } },
        ),
    );
    const error = await http.request({ method: "GET", path: "/v1/topics/x" }).catch((e) => e);
    expect(error).toBeInstanceOf(SwitchyardClientError);
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error).toMatchObject({
      code: "invalid_name",
      status: 400,
      message: "topic name must match",
    });
    expect(error.errors).toEqual([{ pointer: "topic", message: "must match" }]);
  });

  it("keeps an unknown code in `problem` and maps `code` to the nearest known one", () => {
    const error = new SwitchyardClientError({ status: 409, code: "brand_new_conflict" });
    expect(error.code).toBe("conflict");
    expect(error.problem.code).toBe("brand_new_conflict");
  });

  it("turns a non-problem error answer into unexpected_response with its status", async () => {
    const http = transport(() => new Response("<html>bad gateway</html>", { status: 502 }));
    const error = await http.request({ method: "GET", path: "/" }).catch((e) => e);
    expect(error).toMatchObject({ code: "unexpected_response", status: 502, retryable: true });
  });

  it("turns a connection failure into unreachable, naming the cause", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    const http = transport(() => Promise.reject(new TypeError("fetch failed", { cause: refused })));
    const error = await http.request({ method: "GET", path: "/v1/info" }).catch((e) => e);
    expect(error).toMatchObject({ code: "unreachable", retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("reads Retry-After in seconds", async () => {
    const http = transport(
      () =>
        new Response(JSON.stringify({ status: 429, code: "rate_limited" }), {
          status: 429,
          headers: { "retry-after": "2" },
        }),
    );
    const error = await http.request({ method: "GET", path: "/" }).catch((e) => e);
    expect(error.retryAfterMs).toBe(2_000);
  });
});
