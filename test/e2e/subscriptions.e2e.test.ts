import { describe, expect, it } from "vitest";
import { api, event, expectProblem, routerPerFile, uniqueName } from "../support/router.js";

const router = routerPerFile();
const http = api(() => router.url);

const SECRET = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
const SECRET2 = `whsec_${Buffer.alloc(24, 9).toString("base64")}`;

async function newTopic(): Promise<string> {
  const topic = uniqueName("subs");
  expect((await http.put(`/v1/topics/${topic}`, {})).status).toBe(201);
  return topic;
}

describe("subscriptions", () => {
  it("creates with API.md defaults and a dead-letter topic, then shows stats", async () => {
    const topic = await newTopic();
    const name = uniqueName("s");
    const res = await http.put(`/v1/subscriptions/${name}`, { topic });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      name,
      topic,
      filter: null,
      start: "latest",
      ackTimeoutMs: 30_000,
      maxAttempts: 10,
      backoff: { initialMs: 1_000, maxMs: 600_000, multiplier: 2 },
      deadLetterTopic: `${topic}.${name}.dlq`,
      ordering: "none",
      maxInFlight: 1_000,
      push: null,
    });
    expect((await http.get(`/v1/topics/${topic}.${name}.dlq`)).status).toBe(200);

    const one = await http.get(`/v1/subscriptions/${name}`);
    expect(one.status).toBe(200);
    expect(one.body.stats).toMatchObject({
      lag: 0,
      inFlight: 0,
      delivered: 0,
      acked: 0,
      deadLettered: 0,
      oldestUnackedAgeMs: 0,
    });
    expect(one.body.state).toBeUndefined();

    const list = await http.get("/v1/subscriptions");
    expect(list.body.subscriptions.map((s: { name: string }) => s.name)).toContain(name);

    expect((await http.del(`/v1/subscriptions/${name}`)).status).toBe(204);
    expectProblem(await http.get(`/v1/subscriptions/${name}`), 404, "subscription_not_found");
    expectProblem(await http.del(`/v1/subscriptions/${name}`), 404, "subscription_not_found");
  });

  it("updates keeping the position; start is ignored on update; topic change is 409", async () => {
    const topic = await newTopic();
    const name = uniqueName("s");
    await http.publish(topic, [event(), event()]);
    expect((await http.put(`/v1/subscriptions/${name}`, { topic, start: "earliest" })).status).toBe(
      201,
    );
    const first = await http.post(`/v1/subscriptions/${name}/pull`, { max: 1 });
    expect(first.body.deliveries[0].event.offset).toBe(1);
    await http.post(`/v1/subscriptions/${name}/ack`, { ackIds: [first.body.deliveries[0].ackId] });

    const updated = await http.put(`/v1/subscriptions/${name}`, {
      topic,
      start: "latest",
      maxAttempts: 3,
      filter: { prefix: { type: "test" } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      maxAttempts: 3,
      start: "earliest",
      filter: { prefix: { type: "test" } },
    });
    const second = await http.post(`/v1/subscriptions/${name}/pull`, { max: 10 });
    expect(
      second.body.deliveries.map((d: { event: { offset: number } }) => d.event.offset),
    ).toEqual([2]);

    const other = await newTopic();
    const changed = await http.put(`/v1/subscriptions/${name}`, { topic: other });
    expectProblem(changed, 409, "subscription_topic_changed", "/topic");
    expect((await http.get(`/v1/subscriptions/${name}`)).body.topic).toBe(topic);
  });

  it("applies the filter at delivery, and a filter change keeps the position", async () => {
    const topic = await newTopic();
    const name = uniqueName("f");
    const filter = {
      all: [{ exact: { type: "order.placed" } }, { not: { prefix: { "data.sku": "X" } } }],
    };
    expect((await http.put(`/v1/subscriptions/${name}`, { topic, filter })).status).toBe(201);
    const a = event({ type: "order.placed", data: { sku: "A1" } });
    const b = event({ type: "order.paid", data: { sku: "A2" } });
    const c = event({ type: "order.placed", data: { sku: "X9" } });
    await http.publish(topic, [a, b, c]);
    const first = await http.post(`/v1/subscriptions/${name}/pull`, { max: 10 });
    expect(first.body.deliveries.map((d: { event: { id: string } }) => d.event.id)).toEqual([a.id]);
    await http.post(`/v1/subscriptions/${name}/ack`, { ackIds: [first.body.deliveries[0].ackId] });

    const changed = await http.put(`/v1/subscriptions/${name}`, {
      topic,
      filter: { exact: { type: "order.paid" } },
    });
    expect(changed.status).toBe(200);
    const d = event({ type: "order.paid" });
    await http.publish(topic, d);
    const second = await http.post(`/v1/subscriptions/${name}/pull`, { max: 10 });
    expect(second.body.deliveries.map((x: { event: { id: string } }) => x.event.id)).toEqual([
      d.id,
    ]);
  });

  it("stores a push config, validates it and never shows its secrets or header values", async () => {
    const topic = await newTopic();
    const name = uniqueName("push");
    const push = {
      url: "https://example.test/hook",
      headers: { "x-team": "shop-value-1", authorization: "Bearer hdr-value-2" },
      timeoutMs: 5_000,
      mode: "structured",
      secrets: [SECRET, SECRET2],
    };
    const res = await http.put(`/v1/subscriptions/${name}`, { topic, push });
    expect(res.status).toBe(201);
    expect(res.body.push).toEqual({
      url: push.url,
      headerNames: ["authorization", "x-team"],
      timeoutMs: 5_000,
      mode: "structured",
      onClientError: "retry",
      secretCount: 2,
    });
    for (const answer of [res.text, (await http.get(`/v1/subscriptions`)).text]) {
      expect(answer).not.toContain("whsec_");
      expect(answer).not.toContain("value-");
    }
    const got = await http.get(`/v1/subscriptions/${name}`);
    expect(got.body.state).toBe("healthy");
    expect(got.body.push.secretCount).toBe(2);
    expect(got.body.push.headerNames).toEqual(["authorization", "x-team"]);
    expect(got.text).not.toContain("whsec_");
    expect(got.text).not.toContain("value-");

    // Omitted secrets and headers are kept on update (a GET answer PUT back keeps them too);
    // `secret` replaces the secrets with one, `headers` replaces the headers whole.
    const kept = await http.put(`/v1/subscriptions/${name}`, { topic, push: { url: push.url } });
    expect(kept.body.push).toMatchObject({
      secretCount: 2,
      mode: "binary",
      timeoutMs: 10_000,
      headerNames: ["authorization", "x-team"],
    });
    const roundTrip = await http.put(`/v1/subscriptions/${name}`, {
      topic,
      push: got.body.push,
    });
    expect(roundTrip.body.push).toMatchObject({
      secretCount: 2,
      headerNames: ["authorization", "x-team"],
    });
    const replaced = await http.put(`/v1/subscriptions/${name}`, {
      topic,
      push: { url: push.url, headers: { "x-other": "v" } },
    });
    expect(replaced.body.push.headerNames).toEqual(["x-other"]);
    const cleared = await http.put(`/v1/subscriptions/${name}`, {
      topic,
      push: { url: push.url, headers: {} },
    });
    expect(cleared.body.push.headerNames).toEqual([]);
    const one = await http.put(`/v1/subscriptions/${name}`, {
      topic,
      push: { url: push.url, secret: SECRET },
    });
    expect(one.body.push.secretCount).toBe(1);
    const none = await http.put(`/v1/subscriptions/${name}`, {
      topic,
      push: { url: push.url, secrets: [] },
    });
    expect(none.body.push.secretCount).toBe(0);
  });

  it.each([
    [{ push: { url: "ftp://example.test/x" } }, "/push/url"],
    [{ push: { url: "not a url" } }, "/push/url"],
    [{ push: {} }, "/push/url"],
    [{ push: { url: "https://a.test", headers: { "x-n": 5 } } }, "/push/headers/x-n"],
    [
      { push: { url: "https://a.test", headers: { "bad header": "v" } } },
      "/push/headers/bad header",
    ],
    [{ push: { url: "https://a.test", headers: ["x"] } }, "/push/headers"],
    [{ push: { url: "https://a.test", timeoutMs: 0 } }, "/push/timeoutMs"],
    [{ push: { url: "https://a.test", mode: "both" } }, "/push/mode"],
    [{ push: { url: "https://a.test", secrets: ["plain"] } }, "/push/secrets/0"],
    [{ push: { url: "https://a.test", secrets: ["whsec_c2hvcnQ="] } }, "/push/secrets/0"],
    [{ push: { url: "https://a.test", secret: SECRET, secrets: [SECRET] } }, "/push/secret"],
    [{ push: "https://a.test" }, "/push"],
    [{ ackTimeoutMs: -1 }, "/ackTimeoutMs"],
    [{ ackTimeoutMs: 1e12 }, "/ackTimeoutMs"],
    [{ maxAttempts: 0 }, "/maxAttempts"],
    [{ maxInFlight: 2.5 }, "/maxInFlight"],
    [{ backoff: { initialMs: -3 } }, "/backoff/initialMs"],
    [{ backoff: { initialMs: 5_000, maxMs: 1_000 } }, "/backoff/maxMs"],
    [{ backoff: { multiplier: 0.5 } }, "/backoff/multiplier"],
    [{ ordering: "fifo" }, "/ordering"],
    [{ start: "middle" }, "/start"],
    [{ start: { offset: -2 } }, "/start/offset"],
    [{ start: { time: "soon" } }, "/start/time"],
    [{ deadLetterTopic: "bad name!" }, "/deadLetterTopic"],
    [{ ackTimeout: 5 }, "/ackTimeout"],
  ])("rejects %j naming %s and creates nothing", async (patch, pointer) => {
    const topic = await newTopic();
    const name = uniqueName("bad");
    expectProblem(
      await http.put(`/v1/subscriptions/${name}`, { topic, ...patch }),
      400,
      "invalid_request",
      pointer,
    );
    expectProblem(await http.get(`/v1/subscriptions/${name}`), 404, "subscription_not_found");
    expectProblem(await http.get(`/v1/topics/${topic}.${name}.dlq`), 404, "topic_not_found");
  });

  it("rejects bad filters, bad names, missing and unknown topics", async () => {
    const topic = await newTopic();
    expectProblem(
      await http.put(`/v1/subscriptions/${uniqueName("f")}`, { topic, filter: { sql: "x" } }),
      400,
      "invalid_filter",
      "/filter/sql",
    );
    expectProblem(
      await http.put(`/v1/subscriptions/${uniqueName("f")}`, {
        topic,
        filter: { exact: { type: 1 } },
      }),
      400,
      "invalid_filter",
      "/filter/exact/type",
    );
    expectProblem(
      await http.put("/v1/subscriptions/has.dot", { topic }),
      400,
      "invalid_name",
      "path:name",
    );
    expectProblem(
      await http.put(`/v1/subscriptions/${"n".repeat(65)}`, { topic }),
      400,
      "invalid_name",
      "path:name",
    );
    expectProblem(
      await http.put(`/v1/subscriptions/${uniqueName("f")}`, {}),
      400,
      "invalid_request",
      "/topic",
    );
    const name = uniqueName("f");
    expectProblem(
      await http.put(`/v1/subscriptions/${name}`, { topic: uniqueName("missing") }),
      404,
      "topic_not_found",
      "/topic",
    );
    expectProblem(await http.get(`/v1/subscriptions/${name}`), 404, "subscription_not_found");
  });

  it("uses a named dead-letter topic, creating it when missing", async () => {
    const topic = await newTopic();
    const dlq = uniqueName("dead");
    const name = uniqueName("s");
    const res = await http.put(`/v1/subscriptions/${name}`, { topic, deadLetterTopic: dlq });
    expect(res.status).toBe(201);
    expect(res.body.deadLetterTopic).toBe(dlq);
    expect((await http.get(`/v1/topics/${dlq}`)).status).toBe(200);
  });
});
