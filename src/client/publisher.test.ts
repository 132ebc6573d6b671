import { describe, expect, it } from "vitest";
import { runWithCause } from "./correlation.js";
import { type Fetch, HttpTransport } from "./http.js";
import { buildEvent, Publisher } from "./publisher.js";

function recordingPublisher(lingerMs = 1) {
  const requests: { contentType: string; events: Record<string, unknown>[] }[] = [];
  const fetch: Fetch = async (_url, init) => {
    const events = JSON.parse(String(init.body)) as Record<string, unknown>[];
    const headers = new Headers(init.headers);
    requests.push({ contentType: headers.get("content-type") ?? "", events });
    const answers = events.map((e, i) => ({ id: e.id, offset: i + 1, duplicate: false }));
    return new Response(JSON.stringify({ events: answers }), { status: 201 });
  };
  const http = new HttpTransport({
    url: "http://router",
    fetch,
    requestTimeoutMs: 1_000,
    headers: {},
  });
  const publisher = new Publisher(http, {
    source: "test-source",
    batch: { lingerMs, maxItems: 100, maxBytes: 1_000_000, maxInFlight: 4 },
    retry: { retries: 0, initialDelayMs: 1, maxDelayMs: 1 },
  });
  return { publisher, requests };
}

describe("buildEvent", () => {
  it("fills specversion, a UUID id, the client's source and the time", () => {
    const event = buildEvent({ type: "order.placed", data: { n: 1 } }, "src");
    expect(event).toMatchObject({ specversion: "1.0", source: "src", type: "order.placed" });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(String(event.time)))).toBe(false);
  });

  it("keeps what the caller set, but not explicit undefineds", () => {
    const event = buildEvent(
      { type: "t", id: "mine", source: "theirs", subject: undefined },
      "src",
    );
    expect(event).toMatchObject({ id: "mine", source: "theirs" });
    expect("subject" in event).toBe(false);
  });

  it("derives causation and correlation from a cause, unless the caller set them", () => {
    expect(buildEvent({ type: "t" }, "s", { id: "e1" })).toMatchObject({
      causationid: "e1",
      correlationid: "e1",
    });
    expect(buildEvent({ type: "t" }, "s", { id: "e2", correlationid: "c0" })).toMatchObject({
      causationid: "e2",
      correlationid: "c0",
    });
    expect(buildEvent({ type: "t", correlationid: "own" }, "s", { id: "e3" })).toMatchObject({
      correlationid: "own",
    });
  });
});

describe("Publisher", () => {
  it("sends concurrent publishes to one topic as one CloudEvents batch", async () => {
    const { publisher, requests } = recordingPublisher();
    const results = await Promise.all(
      [1, 2, 3].map((n) => publisher.publish("orders", { type: "t", data: n })),
    );
    expect(requests).toHaveLength(1);
    expect(requests[0]?.contentType).toBe("application/cloudevents-batch+json");
    expect(requests[0]?.events.map((e) => e.data)).toEqual([1, 2, 3]);
    expect(results.map((r) => ("offset" in r ? r.offset : 0))).toEqual([1, 2, 3]);
  });

  it("answers an array publish with an array, in order", async () => {
    const { publisher } = recordingPublisher();
    const results = await publisher.publish("orders", [{ type: "a" }, { type: "b" }]);
    expect(Array.isArray(results) && results.map((r) => r.offset)).toEqual([1, 2]);
  });

  it("rejects an invalid event before sending anything, pointing at it", async () => {
    const { publisher, requests } = recordingPublisher();
    const bad = publisher.publish("orders", [{ type: "ok" }, { type: "", data: 1 }]);
    await expect(bad).rejects.toMatchObject({
      code: "invalid_event",
      errors: [{ pointer: "/1/type", message: "must be a non-empty string" }],
    });
    await expect(publisher.publish("orders", { type: "t", offset: 3 })).rejects.toMatchObject({
      code: "reserved_attribute",
    });
    await expect(publisher.publish("bad topic", { type: "t" })).rejects.toMatchObject({
      code: "invalid_name",
    });
    await publisher.flush();
    expect(requests).toHaveLength(0);
  });

  it("rejects bad input through the promise, never by throwing, and reports each event's own errors", async () => {
    const { publisher, requests } = recordingPublisher();
    let first: Promise<unknown> | undefined;
    let topic: Promise<unknown> | undefined;
    expect(() => {
      first = publisher.publish("orders", { type: "", subject: 5 as unknown as string });
      topic = publisher.publish("bad topic", { type: "t" });
    }).not.toThrow();
    await expect(first).rejects.toMatchObject({
      code: "invalid_event",
      errors: [
        { pointer: "/type", message: "must be a non-empty string" },
        { pointer: "/subject", message: "must be a string" },
      ],
    });
    await expect(topic).rejects.toMatchObject({ code: "invalid_name" });
    // A valid event after a bad one goes, and the next bad one carries only its own error.
    await expect(publisher.publish("orders", { type: "ok" })).resolves.toMatchObject({
      offset: 1,
    });
    await expect(
      publisher.publish("orders", { type: "t", dataschema: 1 as unknown as string }),
    ).rejects.toMatchObject({
      errors: [{ pointer: "/dataschema", message: "must be a string" }],
    });
    expect(requests.map((r) => r.events.map((e) => e.type))).toEqual([["ok"]]);
  });

  it("links events published inside a handler context to the handled event", async () => {
    const { publisher, requests } = recordingPublisher();
    await runWithCause({ id: "handled", correlationid: "root" }, () =>
      publisher.publish("orders", { type: "t" }),
    );
    expect(requests[0]?.events[0]).toMatchObject({ causationid: "handled", correlationid: "root" });
  });

  it("refuses to publish after close", async () => {
    const { publisher } = recordingPublisher();
    await publisher.close();
    await expect(publisher.publish("orders", { type: "t" })).rejects.toMatchObject({
      code: "shutting_down",
    });
  });
});
