/**
 * Scheduled events through a whole router (API.md "Scheduled events"), time driven by the
 * test kit's manual clock: accepted without an offset, appended exactly when due, listed,
 * cancelled, refused when too far ahead, deduplicated while pending, dropped with the topic.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRouter, type TestRouter } from "../testing/index.js";

const START = Date.UTC(2030, 5, 1, 12, 0, 0);
let router: TestRouter;

beforeAll(async () => {
  router = await createTestRouter({ startTime: START });
});
afterAll(async () => {
  await router.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${router.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: JSON.stringify(body),
          headers: {
            "content-type": Array.isArray(body)
              ? "application/cloudevents-batch+json"
              : path.endsWith("/events")
                ? "application/cloudevents+json"
                : "application/json",
          },
        }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? null : JSON.parse(text),
    headers: response.headers,
  };
}

const at = (ms: number) => new Date(START + ms).toISOString();
const event = (id: string, deliverat?: string, source = "/test") => ({
  specversion: "1.0",
  id,
  source,
  type: "reminder.due",
  ...(deliverat === undefined ? {} : { deliverat }),
  data: { id },
});

async function topic(name: string, config: Record<string, unknown> = {}): Promise<string> {
  expect((await call("PUT", `/v1/topics/${name}`, config)).status).toBe(201);
  return name;
}

async function logIds(name: string): Promise<string[]> {
  const page = (await call("GET", `/v1/topics/${name}/events`)).body as {
    events: { id: string }[];
  };
  return page.events.map((e) => e.id);
}

describe("scheduled events", () => {
  // First: the registry's view counts as stale once the manual clock has run far ahead.
  it("checks schemas when a scheduled event is accepted, and stores the validated event", async () => {
    const type = "sch.order.placed";
    const schema = {
      type: "object",
      properties: { total: { type: "number" } },
      required: ["total"],
    };
    expect((await call("PUT", `/v1/schemas/${type}`, { schema })).status).toBe(201);
    const t = await topic("sch-schema", { schemas: { mode: "enforce" } });
    const typed = (id: string, data: unknown) => ({
      ...event(id, at(500_000)),
      type,
      datacontenttype: "application/json",
      data,
    });
    const bad = await call("POST", `/v1/topics/${t}/events`, typed("v1", { total: "x" }));
    expect(bad.status, JSON.stringify(bad.body)).toBe(422);
    expect((bad.body as { code: string }).code).toBe("schema_violation");
    expect((await call("GET", `/v1/topics/${t}/scheduled`)).body).toEqual({ scheduled: [] });
    const good = await call("POST", `/v1/topics/${t}/events`, typed("v2", { total: 3 }));
    expect(good.status).toBe(201);
    const listed = (await call("GET", `/v1/topics/${t}/scheduled`)).body as {
      scheduled: { event: { dataschema?: string } }[];
    };
    expect(listed.scheduled[0]?.event.dataschema).toMatch(
      /\/v1\/schemas\/sch\.order\.placed\/versions\/1$/,
    );
  });

  it("accepts an event with a future deliverat without an offset and appends it when due", async () => {
    const t = await topic("sch-due");
    const published = await call("POST", `/v1/topics/${t}/events`, event("r1", at(10_000)));
    expect(published.status).toBe(201);
    expect(published.body).toEqual({
      events: [{ id: "r1", scheduled: true, deliverat: at(10_000), duplicate: false }],
    });
    const listed = (await call("GET", `/v1/topics/${t}/scheduled`)).body as {
      scheduled: { id: string; source: string; deliverat: string; event: { deliverat: string } }[];
      next?: string;
    };
    expect(listed.scheduled).toHaveLength(1);
    expect(listed.scheduled[0]).toMatchObject({ id: "r1", source: "/test", deliverat: at(10_000) });
    expect(listed.scheduled[0]?.event.deliverat).toBe(at(10_000));
    expect(listed.next).toBeUndefined();
    await router.advance(9_999);
    expect(await logIds(t)).toEqual([]);
    await router.advance(1);
    await router.waitFor(async () => (await logIds(t)).length === 1);
    const stored = (await call("GET", `/v1/topics/${t}/events`)).body as {
      events: { id: string; offset: number; deliverat: string }[];
    };
    expect(stored.events[0]).toMatchObject({ id: "r1", offset: 1, deliverat: at(10_000) });
    expect((await call("GET", `/v1/topics/${t}/scheduled`)).body).toEqual({ scheduled: [] });
    // Appended: no longer cancellable.
    const late = await call("DELETE", `/v1/topics/${t}/scheduled/r1`);
    expect(late.status).toBe(404);
    expect((late.body as { code: string }).code).toBe("scheduled_not_found");
  });

  it("appends an event whose deliverat has passed at once, mixed in a batch with scheduled ones", async () => {
    const t = await topic("sch-mixed");
    const published = await call("POST", `/v1/topics/${t}/events`, [
      event("m1", at(60_000)),
      event("m2", at(-1_000)),
      event("m3"),
    ]);
    expect(published.status).toBe(201);
    const entries = (published.body as { events: Record<string, unknown>[] }).events;
    expect(entries.map((e) => e.id)).toEqual(["m1", "m2", "m3"]);
    expect(entries[0]).toMatchObject({ scheduled: true });
    expect(entries[1]).toMatchObject({ offset: 1, duplicate: false });
    expect(entries[2]).toMatchObject({ offset: 2, duplicate: false });
    expect(await logIds(t)).toEqual(["m2", "m3"]);
  });

  it("refuses a deliverat more than 365 days ahead or not a time, writing nothing", async () => {
    const t = await topic("sch-far");
    const far = await call("POST", `/v1/topics/${t}/events`, [
      event("f1", at(60_000)),
      event("f2", at(366 * 86_400_000)),
      event("f3", "tomorrow"),
    ]);
    expect(far.status).toBe(400);
    expect(far.body).toMatchObject({
      code: "invalid_event",
      errors: [
        { pointer: "/1/deliverat", message: "is more than 365 days ahead" },
        { pointer: "/2/deliverat", message: "must be an RFC 3339 timestamp" },
      ],
    });
    expect((await call("GET", `/v1/topics/${t}/scheduled`)).body).toEqual({ scheduled: [] });
  });

  it("answers a repeat of a pending event as a duplicate even without a dedupe window", async () => {
    const t = await topic("sch-dup", { dedupeWindowMs: 0 });
    await call("POST", `/v1/topics/${t}/events`, event("d1", at(30_000)));
    const again = await call("POST", `/v1/topics/${t}/events`, event("d1", at(50_000)));
    expect(again.body).toEqual({
      events: [{ id: "d1", scheduled: true, deliverat: at(30_000), duplicate: true }],
    });
    const listed = (await call("GET", `/v1/topics/${t}/scheduled`)).body as {
      scheduled: unknown[];
    };
    expect(listed.scheduled).toHaveLength(1);
  });

  it("lists in deliverat order with paging and cancels by id, by id and source", async () => {
    const t = await topic("sch-cancel");
    await call("POST", `/v1/topics/${t}/events`, [
      event("c3", at(300_000)),
      event("c1", at(100_000)),
      event("c2", at(200_000), "/one"),
      event("c2", at(250_000), "/two"),
    ]);
    const first = (await call("GET", `/v1/topics/${t}/scheduled?limit=2`)).body as {
      scheduled: { id: string }[];
      next: string;
    };
    expect(first.scheduled.map((s) => s.id)).toEqual(["c1", "c2"]);
    const second = (await call("GET", `/v1/topics/${t}/scheduled?limit=2&after=${first.next}`))
      .body as { scheduled: { id: string }[]; next?: string };
    expect(second.scheduled.map((s) => s.id)).toEqual(["c2", "c3"]);
    expect(second.next).toBeUndefined();
    const bad = await call("GET", `/v1/topics/${t}/scheduled?after=bm9wZQ`);
    expect(bad.status).toBe(400);

    const ambiguous = await call("DELETE", `/v1/topics/${t}/scheduled/c2`);
    expect(ambiguous.status).toBe(409);
    expect((ambiguous.body as { code: string }).code).toBe("conflict");
    expect((await call("DELETE", `/v1/topics/${t}/scheduled/c2?source=%2Fone`)).status).toBe(204);
    expect((await call("DELETE", `/v1/topics/${t}/scheduled/c2`)).status).toBe(204);
    expect((await call("DELETE", `/v1/topics/${t}/scheduled/c1`)).status).toBe(204);
    const again = await call("DELETE", `/v1/topics/${t}/scheduled/c1`);
    expect((again.body as { code: string }).code).toBe("scheduled_not_found");
    await router.advance(300_000);
    await router.waitFor(async () => (await logIds(t)).length === 1);
    expect(await logIds(t)).toEqual(["c3"]);
  });

  it("drops a topic's pending events when the topic is deleted", async () => {
    const t = await topic("sch-drop");
    await call("POST", `/v1/topics/${t}/events`, event("x1", at(400_000)));
    expect((await call("DELETE", `/v1/topics/${t}`)).status).toBe(204);
    await topic(t);
    expect((await call("GET", `/v1/topics/${t}/scheduled`)).body).toEqual({ scheduled: [] });
    await router.advance(400_000);
    expect(await logIds(t)).toEqual([]);
  });

  it("answers a publish of the event retried after it fired as a duplicate (SQLite)", async () => {
    const t = await topic("sch-retry");
    const first = event("late-retry", new Date(router.clock.now() + 1_000).toISOString());
    await call("POST", `/v1/topics/${t}/events`, first);
    await router.advance(1_000);
    await router.waitFor(async () => (await logIds(t)).length === 1);
    const again = await call("POST", `/v1/topics/${t}/events`, first);
    expect(again.body).toEqual({ events: [{ id: "late-retry", offset: 1, duplicate: true }] });
    expect(await logIds(t)).toEqual(["late-retry"]);
  });

  it("answers 404 for the routes of an unknown topic", async () => {
    expect((await call("GET", "/v1/topics/sch-none/scheduled")).status).toBe(404);
    expect((await call("DELETE", "/v1/topics/sch-none/scheduled/x")).status).toBe(404);
  });
});
