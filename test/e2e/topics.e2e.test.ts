import { describe, expect, it } from "vitest";
import { api, event, expectProblem, routerPerFile, uniqueName } from "../support/router.js";

const router = routerPerFile();
const http = api(() => router.url);

describe("topics", () => {
  it("creates (201), updates (200), shows stats, lists and deletes (204)", async () => {
    const name = uniqueName("orders");
    const created = await http.put(`/v1/topics/${name}`, {
      retention: { maxAgeMs: 60_000 },
      dedupeWindowMs: 1_000,
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name,
      retention: { maxAgeMs: 60_000 },
      dedupeWindowMs: 1_000,
      maxEventBytes: 1_048_576,
      owner: null,
      schemas: { mode: "off", allowUnregisteredTypes: true },
      indexes: [],
    });

    const updated = await http.put(`/v1/topics/${name}`, { maxEventBytes: 2_048 });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      name,
      retention: {},
      dedupeWindowMs: 300_000,
      maxEventBytes: 2_048,
    });

    expect((await http.publish(name, event())).status).toBe(201);
    const one = await http.get(`/v1/topics/${name}`);
    expect(one.status).toBe(200);
    expect(one.body.stats).toMatchObject({ events: 1, firstOffset: 1, lastOffset: 1 });
    expect(one.body.stats.bytes).toBeGreaterThan(0);

    const list = await http.get("/v1/topics");
    expect(list.body.topics.map((t: { name: string }) => t.name)).toContain(name);

    expect((await http.del(`/v1/topics/${name}`)).status).toBe(204);
    expectProblem(await http.get(`/v1/topics/${name}`), 404, "topic_not_found");
  });

  it("accepts an empty body with defaults", async () => {
    const name = uniqueName("plain");
    const res = await http.call("PUT", `/v1/topics/${name}`);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      name,
      retention: {},
      dedupeWindowMs: 300_000,
      maxEventBytes: 1_048_576,
      owner: null,
      schemas: { mode: "off", allowUnregisteredTypes: true },
      indexes: [],
    });
  });

  it("answers 404 for unknown topics", async () => {
    expectProblem(await http.get(`/v1/topics/${uniqueName("nope")}`), 404, "topic_not_found");
    expectProblem(await http.del(`/v1/topics/${uniqueName("nope")}`), 404, "topic_not_found");
  });

  it("rejects bad names and stores nothing", async () => {
    expectProblem(await http.put("/v1/topics/bad%20name", {}), 400, "invalid_name", "path:topic");
    expectProblem(
      await http.put(`/v1/topics/${"x".repeat(201)}`, {}),
      400,
      "invalid_name",
      "path:topic",
    );
    const list = await http.get("/v1/topics");
    expect(list.body.topics.map((t: { name: string }) => t.name)).not.toContain("bad name");
  });

  it.each([
    [{ dedupeWindowMs: -1 }, "/dedupeWindowMs"],
    [{ dedupeWindowMs: 1.5 }, "/dedupeWindowMs"],
    [{ maxEventBytes: 0 }, "/maxEventBytes"],
    [{ maxEventBytes: 1e300 }, "/maxEventBytes"],
    [{ retention: { maxAgeMs: -5 } }, "/retention/maxAgeMs"],
    [{ retention: { maxEvents: "10" } }, "/retention/maxEvents"],
    [{ retention: 7 }, "/retention"],
    [{ retention: { maxAge: 1 } }, "/retention/maxAge"],
    [{ dedupeWindow: 1 }, "/dedupeWindow"],
  ])("rejects %j naming %s, creating nothing", async (body, pointer) => {
    const name = uniqueName("bad");
    expectProblem(await http.put(`/v1/topics/${name}`, body), 400, "invalid_request", pointer);
    expectProblem(await http.get(`/v1/topics/${name}`), 404, "topic_not_found");
  });

  it("rejects malformed JSON and a body that is not an object", async () => {
    const name = uniqueName("badjson");
    expectProblem(
      await http.call("PUT", `/v1/topics/${name}`, {
        raw: "{nope",
        headers: { "content-type": "application/json" },
      }),
      400,
      "invalid_json",
      "",
    );
    expectProblem(await http.put(`/v1/topics/${name}`, [1, 2]), 400, "invalid_request", "");
    expectProblem(await http.get(`/v1/topics/${name}`), 404, "topic_not_found");
  });

  it("refuses to delete a topic that subscriptions read unless force=true", async () => {
    const topic = uniqueName("used");
    const sub = uniqueName("reader");
    await http.put(`/v1/topics/${topic}`, {});
    expect((await http.put(`/v1/subscriptions/${sub}`, { topic })).status).toBe(201);

    const refused = await http.del(`/v1/topics/${topic}`);
    expectProblem(refused, 409, "topic_in_use");
    expect(refused.body.detail).toContain(sub);
    expect((await http.get(`/v1/topics/${topic}`)).status).toBe(200);
    expect((await http.get(`/v1/subscriptions/${sub}`)).status).toBe(200);

    expectProblem(
      await http.del(`/v1/topics/${topic}?force=maybe`),
      400,
      "invalid_request",
      "query:force",
    );
    expect((await http.del(`/v1/topics/${topic}?force=true`)).status).toBe(204);
    expectProblem(await http.get(`/v1/subscriptions/${sub}`), 404, "subscription_not_found");
    expectProblem(await http.get(`/v1/topics/${topic}`), 404, "topic_not_found");
  });
});
