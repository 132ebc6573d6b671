import { describe, expect, it } from "vitest";
import { createClient, SwitchyardClientError } from "../../src/client/index.js";
import { api, event, expectProblem, routerPerFile, uniqueName } from "../support/router.js";

const router = routerPerFile();
const http = api(() => router.url);

type Page = {
  events: { id: string; subjectversion: number; offset: number }[];
  version: number;
  firstVersion: number;
  next: number;
};

async function indexedTopic(extra: Record<string, unknown> = {}): Promise<string> {
  const topic = uniqueName("streams");
  const res = await http.put(`/v1/topics/${topic}`, { indexes: ["subject"], ...extra });
  expect(res.status).toBe(201);
  expect(res.body.indexes).toEqual(["subject"]);
  return topic;
}

function publishAt(topic: string, events: unknown, expectedVersion: number | string) {
  return http.call("POST", `/v1/topics/${topic}/events?expectedVersion=${expectedVersion}`, {
    raw: JSON.stringify(events),
    headers: {
      "content-type": Array.isArray(events)
        ? "application/cloudevents-batch+json"
        : "application/cloudevents+json",
    },
  });
}

const streamOf = (topic: string, subject: string, query = "") =>
  http.get(`/v1/topics/${topic}/subjects/${encodeURIComponent(subject)}/events${query}`);

describe("subject streams over HTTP", () => {
  it("appends with expectedVersion, answers 409 with currentVersion, reads one subject", async () => {
    const topic = await indexedTopic();
    const subject = `order/${uniqueName("o")} ü`;
    const placed = await publishAt(topic, event({ id: "placed", subject }), 0);
    expect(placed.status).toBe(201);
    expect(placed.body.events).toEqual([
      { id: "placed", offset: 1, duplicate: false, subjectversion: 1 },
    ]);
    const stale = await publishAt(topic, event({ id: "paid-late", subject }), 0);
    expectProblem(stale, 409, "version_conflict");
    expect(stale.body.currentVersion).toBe(1);
    expect((await publishAt(topic, event({ id: "paid", subject }), 1)).status).toBe(201);
    // A retry of an append whose answer was lost: duplicate, not a conflict.
    const retry = await publishAt(topic, event({ id: "paid", subject }), 1);
    expect(retry.status).toBe(201);
    expect(retry.body.events[0]).toMatchObject({ duplicate: true, subjectversion: 2 });
    await http.publish(topic, event({ id: "other", subject: "someone else" }));
    const page = await streamOf(topic, subject);
    expect(page.status).toBe(200);
    const body = page.body as Page;
    expect(body.events.map((e) => [e.id, e.subjectversion])).toEqual([
      ["placed", 1],
      ["paid", 2],
    ]);
    expect(body).toMatchObject({ version: 2, firstVersion: 1, next: 3 });
    const second = (await streamOf(topic, subject, "?fromVersion=2&limit=1")).body as Page;
    expect(second.events.map((e) => e.id)).toEqual(["paid"]);
    // The log's own read carries subjectversion too.
    const log = await http.get(`/v1/topics/${topic}/events`);
    expect(log.body.events.map((e: { subjectversion: number }) => e.subjectversion)).toEqual([
      1, 2, 1,
    ]);
    expect((await streamOf(topic, uniqueName("nobody"))).body).toEqual({
      events: [],
      version: 0,
      firstVersion: 1,
      next: 1,
    });
  });

  it("refuses bad requests with the codes API.md names", async () => {
    const topic = await indexedTopic();
    expectProblem(
      await publishAt(topic, [event({ subject: "a" }), event({ subject: "b" })], 0),
      400,
      "invalid_request",
      "query:expectedVersion",
    );
    expectProblem(
      await publishAt(topic, event({ id: "x" }), 0),
      400,
      "invalid_request",
      "query:expectedVersion",
    );
    expectProblem(
      await publishAt(topic, event({ subject: "a" }), "-1"),
      400,
      "invalid_request",
      "query:expectedVersion",
    );
    // A scheduled event has no version until it is appended: no condition can apply.
    const later = new Date(Date.now() + 60_000).toISOString();
    expectProblem(
      await publishAt(topic, event({ subject: "a", deliverat: later }), 0),
      400,
      "invalid_request",
      "query:expectedVersion",
    );
    expect((await streamOf(topic, "a")).body.version).toBe(0);
    expectProblem(
      await http.publish(topic, event({ subject: "s".repeat(1025) })),
      400,
      "invalid_event",
      "/subject",
    );
    expectProblem(await streamOf(topic, "a", "?limit=1001"), 400, "invalid_request", "query:limit");
    expectProblem(await streamOf(topic, "é".repeat(513)), 400, "invalid_request", "path:subject");
    // Over 1024 characters the router's path-segment limit answers first.
    expectProblem(await streamOf(topic, "a".repeat(1025)), 400, "invalid_name");
    // The longest subjects are readable, percent-encoded to three times their length.
    for (const longest of ["a".repeat(1024), "é".repeat(512), "/ ?".repeat(341)]) {
      expect((await publishAt(topic, event({ subject: longest }), 0)).status).toBe(201);
      const read = await streamOf(topic, longest);
      expect(read.status, read.text.slice(0, 200)).toBe(200);
      expect(read.body.version).toBe(1);
    }
    const plain = uniqueName("plain");
    await http.put(`/v1/topics/${plain}`, {});
    // Long subjects are fine on topics without the index.
    expect((await http.publish(plain, event({ subject: "s".repeat(1025) }))).status).toBe(201);
    expectProblem(await publishAt(plain, event({ subject: "a" }), 0), 409, "index_missing");
    expectProblem(await streamOf(plain, "a"), 409, "index_missing");
    expectProblem(await streamOf(uniqueName("missing"), "a"), 404, "topic_not_found");
  });

  it("the SDK appends with expectedVersion on its own request and reads a subject", async () => {
    const topic = await indexedTopic();
    const client = createClient({ url: router.url });
    try {
      const subject = uniqueName("cart");
      // A plain publish in flight beside it is batched; the conditional one is not.
      const [plain, first] = await Promise.all([
        client.publish(topic, { type: "t.noted", subject: "elsewhere" }),
        client.publish(topic, { type: "t.opened", subject }, { expectedVersion: 0 }),
      ]);
      expect(plain.subjectVersion).toBe(1);
      expect(first.subjectVersion).toBe(1);
      const conflict = await client
        .publish(topic, { type: "t.opened", subject }, { expectedVersion: 0 })
        .catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(SwitchyardClientError);
      expect((conflict as SwitchyardClientError).code).toBe("version_conflict");
      expect((conflict as SwitchyardClientError).problem.currentVersion).toBe(1);
      const second = await client.publish(
        topic,
        { type: "t.added", subject, data: { sku: "x" } },
        { expectedVersion: 1 },
      );
      expect(second.subjectVersion).toBe(2);
      const page = await client.readSubject<{ sku?: string }>(topic, subject);
      expect(page.events.map((e) => [e.type, e.subjectversion])).toEqual([
        ["t.opened", 1],
        ["t.added", 2],
      ]);
      expect(page).toMatchObject({ version: 2, firstVersion: 1, next: 3 });
      const rest = await client.readSubject(topic, subject, { fromVersion: 2 });
      expect(rest.events).toHaveLength(1);
    } finally {
      await client.close();
    }
  });
});
