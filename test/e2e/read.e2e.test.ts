import { describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { api, event, expectProblem, routerPerFile, uniqueName } from "../support/router.js";

const router = routerPerFile();
const http = api(() => router.url);

async function topicWith(n: number): Promise<string> {
  const topic = uniqueName("log");
  await http.put(`/v1/topics/${topic}`, {});
  const res = await http.publish(
    topic,
    Array.from({ length: n }, (_, i) => event({ data: { i } })),
  );
  expect(res.status).toBe(201);
  return topic;
}

describe("reading the log", () => {
  it("pages with from/limit and next", async () => {
    const topic = await topicWith(5);
    const first = await http.get(`/v1/topics/${topic}/events?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.events.map((e: { offset: number }) => e.offset)).toEqual([1, 2]);
    expect(first.body.next).toBe(3);
    const second = await http.get(`/v1/topics/${topic}/events?from=${first.body.next}&limit=10`);
    expect(second.body.events.map((e: { data: { i: number } }) => e.data.i)).toEqual([2, 3, 4]);
    expect(second.body.next).toBe(6);
    const empty = await http.get(`/v1/topics/${topic}/events?from=6`);
    expect(empty.body).toEqual({ events: [], next: 6 });
    const beyond = await http.get(`/v1/topics/${topic}/events?from=40`);
    expect(beyond.body).toEqual({ events: [], next: 40 });
  });

  it("starts at the first retained offset for from=0 and defaults to 100 events", async () => {
    const topic = await topicWith(120);
    const page = await http.get(`/v1/topics/${topic}/events?from=0`);
    expect(page.body.events).toHaveLength(100);
    expect(page.body.events[0].offset).toBe(1);
    expect(page.body.next).toBe(101);
  });

  it("reads by appendedat with since", async () => {
    const topic = await topicWith(2);
    const after = new Date(Date.now() + 5).toISOString();
    await eventually(() => expect(Date.now()).toBeGreaterThan(Date.parse(after)));
    await http.publish(topic, event({ data: { late: true } }));
    const page = await http.get(`/v1/topics/${topic}/events?since=${encodeURIComponent(after)}`);
    expect(page.status).toBe(200);
    expect(page.body.events.map((e: { offset: number }) => e.offset)).toEqual([3]);
    expect(page.body.next).toBe(4);
    const all = await http.get(`/v1/topics/${topic}/events?since=2000-01-01T00:00:00Z`);
    expect(all.body.events).toHaveLength(3);
  });

  it.each([
    ["from=1&since=2020-01-01T00:00:00Z", "query:since"],
    ["from=-1", "query:from"],
    ["from=abc", "query:from"],
    ["from=1&from=2", "query:from"],
    ["since=yesterday", "query:since"],
    ["limit=0", "query:limit"],
    ["limit=1001", "query:limit"],
    ["limit=99999999999999999999", "query:limit"],
  ])("rejects ?%s naming %s", async (query, pointer) => {
    const topic = await topicWith(1);
    expectProblem(
      await http.get(`/v1/topics/${topic}/events?${query}`),
      400,
      "invalid_request",
      pointer,
    );
  });

  it("answers 404 for an unknown topic", async () => {
    expectProblem(
      await http.get(`/v1/topics/${uniqueName("none")}/events`),
      404,
      "topic_not_found",
    );
  });
});
