import { describe, expect, it } from "vitest";
import { SwitchyardClientError } from "./errors.js";
import { type Fetch, HttpTransport } from "./http.js";
import { type OutgoingEvent, publishSender } from "./publish-sender.js";

type Reply = (events: { id: string }[]) => Response | Promise<Response>;

/** A fake router: each request gets the next scripted reply; every body is recorded. */
function scripted(...replies: Reply[]): { fetch: Fetch; bodies: { id: string }[][] } {
  const bodies: { id: string }[][] = [];
  const fetch: Fetch = async (_url, init) => {
    const events = JSON.parse(String(init.body)) as { id: string }[];
    bodies.push(events);
    const reply = replies.shift();
    if (!reply) throw new Error("unexpected request");
    return reply(events);
  };
  return { fetch, bodies };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

const created: Reply = (events) =>
  json(201, { events: events.map((e, i) => ({ id: e.id, offset: i + 1, duplicate: false })) });

const problem = (status: number, code: string, errors?: { pointer: string; message: string }[]) =>
  json(status, {
    type: "x",
    title: code,
    status,
    code,
    detail: code,
    ...(errors ? { errors } : {}),
  });

function events(...ids: string[]): OutgoingEvent[] {
  return ids.map((id) => {
    const text = JSON.stringify({ specversion: "1.0", id, source: "s", type: "t" });
    return { id, key: null, json: text, bytes: text.length };
  });
}

function sender(fetch: Fetch, retries = 3) {
  const http = new HttpTransport({
    url: "http://router",
    fetch,
    requestTimeoutMs: 1_000,
    headers: {},
  });
  return publishSender(http, { retries, initialDelayMs: 1, maxDelayMs: 2 });
}

describe("publishSender", () => {
  it("reports a scheduled event with offset 0, scheduled and deliverat", async () => {
    const deliverat = "2030-01-01T00:00:00.000Z";
    const { fetch } = scripted((sent) =>
      json(201, {
        events: [
          { id: sent[0]?.id, scheduled: true, deliverat, duplicate: false },
          { id: sent[1]?.id, offset: 7, duplicate: false },
        ],
      }),
    );
    expect(await sender(fetch)("t", events("a", "b"))).toEqual([
      { id: "a", offset: 0, duplicate: false, scheduled: true, deliverat },
      { id: "b", offset: 7, duplicate: false },
    ]);
  });

  it("retries a 503 and a network error with the same event ids", async () => {
    const { fetch, bodies } = scripted(
      () => problem(503, "engine_unavailable"),
      () => Promise.reject(new TypeError("fetch failed")),
      created,
    );
    const results = await sender(fetch)("orders", events("a", "b"));
    expect(results).toEqual([
      { id: "a", offset: 1, duplicate: false },
      { id: "b", offset: 2, duplicate: false },
    ]);
    expect(bodies.map((b) => b.map((e) => e.id))).toEqual([
      ["a", "b"],
      ["a", "b"],
      ["a", "b"],
    ]);
  });

  it("gives up after the configured retries with the router's problem", async () => {
    const { fetch, bodies } = scripted(
      () => problem(503, "engine_unavailable"),
      () => problem(503, "engine_unavailable"),
    );
    const [result] = await sender(fetch, 1)("orders", events("a"));
    expect(result).toBeInstanceOf(SwitchyardClientError);
    expect((result as SwitchyardClientError).code).toBe("engine_unavailable");
    expect(bodies).toHaveLength(2);
  });

  it("fails only the events a 400 points at and sends the others again", async () => {
    const { fetch, bodies } = scripted(
      () => problem(400, "invalid_event", [{ pointer: "/1/type", message: "is required" }]),
      created,
    );
    const results = await sender(fetch)("orders", events("a", "b", "c"));
    expect(bodies.map((b) => b.map((e) => e.id))).toEqual([
      ["a", "b", "c"],
      ["a", "c"],
    ]);
    const bad = results[1] as SwitchyardClientError;
    expect(bad.code).toBe("invalid_event");
    expect(bad.errors).toEqual([{ pointer: "/type", message: "is required" }]);
    expect(results[0]).toMatchObject({ id: "a" });
    expect(results[2]).toMatchObject({ id: "c" });
  });

  it("fails the whole batch on a 4xx that points at no event, without retrying", async () => {
    const { fetch, bodies } = scripted(() => problem(404, "topic_not_found"));
    const results = await sender(fetch)("orders", events("a", "b"));
    expect(results.map((r) => (r as SwitchyardClientError).code)).toEqual([
      "topic_not_found",
      "topic_not_found",
    ]);
    expect(bodies).toHaveLength(1);
  });

  it("retries only the events a 207 reports as failed with a retryable problem", async () => {
    const { fetch, bodies } = scripted(
      (evs) =>
        json(207, {
          events: [
            { id: evs[0]?.id, offset: 7, duplicate: false },
            { id: evs[1]?.id, error: { status: 500, code: "append_failed", detail: "disk" } },
            { id: evs[2]?.id, error: { status: 400, code: "invalid_event", detail: "no" } },
          ],
        }),
      (evs) => json(201, { events: [{ id: evs[0]?.id, offset: 8, duplicate: false }] }),
    );
    const results = await sender(fetch)("orders", events("a", "b", "c"));
    expect(bodies.map((b) => b.map((e) => e.id))).toEqual([["a", "b", "c"], ["b"]]);
    expect(results[0]).toEqual({ id: "a", offset: 7, duplicate: false });
    expect(results[1]).toEqual({ id: "b", offset: 8, duplicate: false });
    expect((results[2] as SwitchyardClientError).code).toBe("invalid_event");
  });

  it("splits a batch the router finds too large", async () => {
    const { fetch, bodies } = scripted(() => problem(413, "batch_too_large"), created, created);
    const results = await sender(fetch)("orders", events("a", "b", "c"));
    expect(bodies.map((b) => b.map((e) => e.id))).toEqual([["a", "b", "c"], ["a", "b"], ["c"]]);
    expect(results.every((r) => !(r instanceof Error))).toBe(true);
  });

  it("retries a 429", async () => {
    const { fetch, bodies } = scripted(
      () => json(429, { status: 429, code: "rate_limited" }, { "retry-after": "0" }),
      created,
    );
    const [result] = await sender(fetch)("orders", events("a"));
    expect(result).toMatchObject({ id: "a" });
    expect(bodies).toHaveLength(2);
  });
});
