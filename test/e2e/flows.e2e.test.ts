import { describe, expect, it } from "vitest";
import { createClient } from "../../src/client/index.js";
import { eventually } from "../support/eventually.js";
import { api, event, expectProblem, routerPerFile, uniqueName } from "../support/router.js";

const router = routerPerFile();
const http = api(() => router.url);

type Ids = { events: { id: string; topic: string }[] };
const idsOf = (body: Ids) => body.events.map((e) => e.id);

async function indexedTopic(): Promise<string> {
  const topic = uniqueName("flow");
  const res = await http.put(`/v1/topics/${topic}`, { indexes: ["correlationid"] });
  expect(res.status).toBe(201);
  expect(res.body.indexes).toEqual(["correlationid"]);
  return topic;
}

describe("GET /v1/flows/{correlationid}", () => {
  it("answers the events of one correlation id across topics, with causation edges", async () => {
    const orders = await indexedTopic();
    const payments = await indexedTopic();
    const plain = uniqueName("plain");
    await http.put(`/v1/topics/${plain}`, {});
    const flow = `order 42/${uniqueName("c")}`;
    await http.publish(orders, event({ id: "placed", correlationid: flow }));
    await http.publish(payments, event({ id: "paid", correlationid: flow, causationid: "placed" }));
    await http.publish(plain, event({ id: "unindexed", correlationid: flow }));
    await http.publish(orders, [
      event({ id: "shipped", correlationid: flow, causationid: "paid" }),
      event({ id: "audited", correlationid: flow, causationid: "placed" }),
      event({ id: "elsewhere", correlationid: "another" }),
    ]);
    const res = await http.get(`/v1/flows/${encodeURIComponent(flow)}`);
    expect(res.status).toBe(200);
    expect(idsOf(res.body)).toEqual(["placed", "paid", "shipped", "audited"]);
    expect(res.body.events[1]).toMatchObject({ topic: payments, offset: 1, correlationid: flow });
    expect(res.body.edges).toEqual([
      { from: "placed", to: "paid" },
      { from: "paid", to: "shipped" },
      { from: "placed", to: "audited" },
    ]);
    expect(res.body).toMatchObject({ hidden: 0, truncated: false });
    const limited = await http.get(`/v1/flows/${encodeURIComponent(flow)}?limit=2`);
    expect(idsOf(limited.body)).toEqual(["placed", "paid"]);
    expect(limited.body).toMatchObject({
      truncated: true,
      edges: [{ from: "placed", to: "paid" }],
    });
  });

  it("answers no events for an unknown id, and 400 for a bad limit", async () => {
    const res = await http.get(`/v1/flows/${uniqueName("nobody")}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ events: [], edges: [], hidden: 0, truncated: false });
    for (const limit of ["0", "10001", "x"])
      expectProblem(
        await http.get(`/v1/flows/x?limit=${limit}`),
        400,
        "invalid_request",
        "query:limit",
      );
  });

  it("builds an index added to a topic that holds events, showing progress in stats", async () => {
    const topic = uniqueName("late");
    await http.put(`/v1/topics/${topic}`, {});
    const flow = uniqueName("c");
    const events = Array.from({ length: 50 }, (_, i) =>
      event({ id: `e${i}`, correlationid: flow }),
    );
    await http.publish(topic, events);
    const put = await http.put(`/v1/topics/${topic}`, { indexes: ["correlationid"] });
    expect(put.status).toBe(200);
    await eventually(async () => {
      const stats = (await http.get(`/v1/topics/${topic}`)).body.stats;
      expect(stats.indexes).toEqual({ correlationid: { state: "ready", remaining: 0 } });
    });
    const res = await http.get(`/v1/flows/${flow}`);
    expect(idsOf(res.body)).toHaveLength(50);
    // Removing the index drops it: the topic's events leave the flow.
    await http.put(`/v1/topics/${topic}`, {});
    const topicNow = await http.get(`/v1/topics/${topic}`);
    expect(topicNow.body.indexes).toEqual([]);
    expect(topicNow.body.stats.indexes).toBeUndefined();
    expect(idsOf((await http.get(`/v1/flows/${flow}`)).body)).toEqual([]);
  });

  it("is read by the SDK's admin.flow, with correlation ids carried by the SDK", async () => {
    const c = createClient({ url: router.url, source: "/e2e", retry: { retries: 0 } });
    try {
      const { topic } = await c.admin.topics.put(uniqueName("sdk"), { indexes: ["correlationid"] });
      expect(topic.indexes).toEqual(["correlationid"]);
      const flow = uniqueName("c");
      await c.publish(topic.name, { id: "first", type: "t", correlationid: flow });
      await c.publish(topic.name, {
        id: "second",
        type: "t",
        correlationid: flow,
        causationid: "first",
      });
      const answer = await c.admin.flow(flow, { limit: 10 });
      expect(answer.events.map((e) => e.id)).toEqual(["first", "second"]);
      expect(answer.edges).toEqual([{ from: "first", to: "second" }]);
      expect((await c.admin.topics.get(topic.name)).stats?.indexes).toEqual({
        correlationid: { state: "ready", remaining: 0 },
      });
    } finally {
      await c.close();
    }
  });

  it("validates indexes in a topic's config", async () => {
    const topic = uniqueName("bad");
    expectProblem(
      await http.put(`/v1/topics/${topic}`, { indexes: ["colour"] }),
      400,
      "invalid_request",
      "/indexes/0",
    );
    // Both index names are accepted (subject streams: test/e2e/subjects.e2e.test.ts).
    const both = await http.put(`/v1/topics/${uniqueName("both")}`, {
      indexes: ["subject", "correlationid"],
    });
    expect(both.status).toBe(201);
    expectProblem(
      await http.put(`/v1/topics/${topic}`, { indexes: "correlationid" }),
      400,
      "invalid_request",
      "/indexes",
    );
    expect((await http.get(`/v1/topics/${topic}`)).status).toBe(404);
  });
});
