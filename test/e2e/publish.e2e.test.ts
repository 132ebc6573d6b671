import { describe, expect, it } from "vitest";
import {
  api,
  event,
  expectProblem,
  routerPerFile,
  startTestRouter,
  uniqueName,
} from "../support/router.js";

const router = routerPerFile({ limits: { maxBodyBytes: 64 * 1024, maxBatchEvents: 50 } });
const http = api(() => router.url);

async function newTopic(config: Record<string, unknown> = {}): Promise<string> {
  const name = uniqueName("pub");
  expect((await http.put(`/v1/topics/${name}`, config)).status).toBe(201);
  return name;
}

async function storedCount(topic: string): Promise<number> {
  const res = await http.get(`/v1/topics/${topic}/events?from=1&limit=1000`);
  expect(res.status).toBe(200);
  return res.body.events.length;
}

function binary(topic: string, headers: Record<string, string>, raw: string | Uint8Array) {
  return http.call("POST", `/v1/topics/${topic}/events`, { headers, raw });
}

describe("publishing, structured and batch", () => {
  it("answers 201 with id, offset and duplicate, and stores the event as sent", async () => {
    const topic = await newTopic();
    const sent = event({
      correlationid: "corr-1",
      causationid: "cause-1",
      partitionkey: "k1",
      subject: "s",
    });
    const res = await http.publish(topic, sent);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ events: [{ id: sent.id, offset: 1, duplicate: false }] });
    const read = await http.get(`/v1/topics/${topic}/events`);
    expect(read.body.events[0]).toMatchObject({ ...sent, offset: 1, topic });
    expect(typeof read.body.events[0].appendedat).toBe("string");
    expect(typeof read.body.events[0].time).toBe("string");
  });

  it("fills in a UUID v7 id and the time when missing", async () => {
    const topic = await newTopic();
    const { id: _id, ...noId } = event();
    const res = await http.publish(topic, noId);
    expect(res.status).toBe(201);
    const id: string = res.body.events[0].id;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const stored = (await http.get(`/v1/topics/${topic}/events`)).body.events[0];
    expect(stored.id).toBe(id);
    expect(Date.parse(stored.time)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("publishes a batch in order and reports duplicates with the original offset", async () => {
    const topic = await newTopic();
    const a = event();
    const b = event();
    const res = await http.publish(topic, [a, b, a]);
    expect(res.status).toBe(201);
    expect(res.body.events).toEqual([
      { id: a.id, offset: 1, duplicate: false },
      { id: b.id, offset: 2, duplicate: false },
      { id: a.id, offset: 1, duplicate: true },
    ]);
    const again = await http.publish(topic, b);
    expect(again.status).toBe(201);
    expect(again.body.events).toEqual([{ id: b.id, offset: 2, duplicate: true }]);
    expect(await storedCount(topic)).toBe(2);
  });

  it("accepts charset parameters on the content type", async () => {
    const topic = await newTopic();
    const res = await http.call("POST", `/v1/topics/${topic}/events`, {
      raw: JSON.stringify(event()),
      headers: { "content-type": "application/cloudevents+json; charset=utf-8" },
    });
    expect(res.status).toBe(201);
  });
});

describe("publishing, binary mode", () => {
  it("percent-decodes ce-* headers and parses a JSON body as data", async () => {
    const topic = await newTopic();
    const res = await binary(
      topic,
      {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": "bin-1",
        "ce-source": "/shop/caf%C3%A9",
        "ce-type": "order.placed",
        "ce-subject": "100%25 sure",
        "ce-correlationid": "c-9",
      },
      JSON.stringify({ total: 42 }),
    );
    expect(res.status).toBe(201);
    const stored = (await http.get(`/v1/topics/${topic}/events`)).body.events[0];
    expect(stored).toMatchObject({
      id: "bin-1",
      source: "/shop/café",
      subject: "100% sure",
      correlationid: "c-9",
      datacontenttype: "application/json",
      data: { total: 42 },
    });
  });

  it("keeps text bodies as strings and other bodies as data_base64", async () => {
    const topic = await newTopic();
    const ce = { "ce-specversion": "1.0", "ce-source": "/s", "ce-type": "t" };
    expect(
      (await binary(topic, { ...ce, "ce-id": "t1", "content-type": "text/plain" }, "héllo")).status,
    ).toBe(201);
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect(
      (
        await binary(
          topic,
          { ...ce, "ce-id": "b1", "content-type": "application/octet-stream" },
          bytes,
        )
      ).status,
    ).toBe(201);
    const [text, bin] = (await http.get(`/v1/topics/${topic}/events`)).body.events;
    expect(text.data).toBe("héllo");
    expect(bin.data_base64).toBe(Buffer.from(bytes).toString("base64"));
    expect(bin.data).toBeUndefined();
  });

  it("names the header of a bad binary-mode attribute", async () => {
    const topic = await newTopic();
    const res = await binary(
      topic,
      {
        "content-type": "text/plain",
        "ce-specversion": "0.3",
        "ce-id": "x",
        "ce-source": "/s",
        "ce-type": "t",
      },
      "x",
    );
    expectProblem(res, 400, "invalid_event", "header:ce-specversion");
    const missing = await binary(
      topic,
      { "content-type": "text/plain", "ce-specversion": "1.0", "ce-id": "x", "ce-type": "t" },
      "x",
    );
    expectProblem(missing, 400, "invalid_event", "header:ce-source");
    const reserved = await binary(
      topic,
      {
        "content-type": "text/plain",
        "ce-specversion": "1.0",
        "ce-source": "/s",
        "ce-type": "t",
        "ce-offset": "3",
      },
      "x",
    );
    expectProblem(reserved, 400, "reserved_attribute", "header:ce-offset");
    const badJson = await binary(
      topic,
      {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-source": "/s",
        "ce-type": "t",
      },
      "{x",
    );
    expectProblem(badJson, 400, "invalid_json", "body");
    expect(await storedCount(topic)).toBe(0);
  });
});

describe("publishing, bad input stores nothing", () => {
  it("answers 415 naming the three modes for plain JSON", async () => {
    const topic = await newTopic();
    const res = await http.post(`/v1/topics/${topic}/events`, event());
    expectProblem(res, 415, "unsupported_media_type", "header:content-type");
    expect(res.body.detail).toContain("application/cloudevents+json");
    expect(res.body.detail).toContain("application/cloudevents-batch+json");
    expect(res.body.detail).toContain("ce-specversion");
    expect(await storedCount(topic)).toBe(0);
  });

  it.each([
    ["missing source", { source: undefined }, "invalid_event", "/source"],
    ["missing type", { type: undefined }, "invalid_event", "/type"],
    ["missing specversion", { specversion: undefined }, "invalid_event", "/specversion"],
    ["wrong specversion", { specversion: "0.3" }, "invalid_event", "/specversion"],
    ["bad time", { time: "yesterday" }, "invalid_event", "/time"],
    ["reserved offset", { offset: 5 }, "reserved_attribute", "/offset"],
    ["reserved topic", { topic: "x" }, "reserved_attribute", "/topic"],
    ["reserved appendedat", { appendedat: "x" }, "reserved_attribute", "/appendedat"],
    ["bad extension name", { "Bad-Name": "x" }, "invalid_event", "/Bad-Name"],
  ])("rejects an event with %s", async (_label, patch, code, pointer) => {
    const topic = await newTopic();
    const sent = JSON.parse(JSON.stringify({ ...event(), ...patch }));
    expectProblem(await http.publish(topic, sent), 400, code, pointer);
    expect(await storedCount(topic)).toBe(0);
  });

  it("rejects a whole batch when one event is bad, pointing at it", async () => {
    const topic = await newTopic();
    const res = await http.publish(topic, [
      event(),
      { ...event(), source: "" },
      event(),
      { specversion: "1.0" },
    ]);
    expectProblem(res, 400, "invalid_event", "/1/source");
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(
      expect.arrayContaining(["/1/source", "/3/source", "/3/type"]),
    );
    expect(await storedCount(topic)).toBe(0);
  });

  it("rejects malformed JSON, a non-array batch and a non-object event", async () => {
    const topic = await newTopic();
    const malformed = await http.call("POST", `/v1/topics/${topic}/events`, {
      raw: '{"specversion":',
      headers: { "content-type": "application/cloudevents+json" },
    });
    expectProblem(malformed, 400, "invalid_json", "");
    expectProblem(
      await http.call("POST", `/v1/topics/${topic}/events`, {
        raw: JSON.stringify(event()),
        headers: { "content-type": "application/cloudevents-batch+json" },
      }),
      400,
      "invalid_request",
      "",
    );
    expectProblem(await http.publish(topic, [42]), 400, "invalid_event", "/0");
    expect(await storedCount(topic)).toBe(0);
  });

  it("answers 413 body_too_large above the body limit", async () => {
    const topic = await newTopic();
    const res = await http.publish(topic, event({ data: "x".repeat(70 * 1024) }));
    expectProblem(res, 413, "body_too_large");
    expect(await storedCount(topic)).toBe(0);
  });

  it("answers 413 batch_too_large above the batch limit", async () => {
    const topic = await newTopic();
    const res = await http.publish(
      topic,
      Array.from({ length: 51 }, () => event()),
    );
    expectProblem(res, 413, "batch_too_large");
    expect(await storedCount(topic)).toBe(0);
  });

  it("answers 413 event_too_large above the topic's maxEventBytes", async () => {
    const topic = await newTopic({ maxEventBytes: 300 });
    const res = await http.publish(topic, [event(), event({ data: "y".repeat(400) })]);
    expectProblem(res, 413, "event_too_large", "/1");
    expect(await storedCount(topic)).toBe(0);
  });

  it("answers 404 for an unknown topic without auto-create, and 400 for a bad topic name", async () => {
    const topic = uniqueName("missing");
    expectProblem(await http.publish(topic, event()), 404, "topic_not_found");
    expectProblem(await http.get(`/v1/topics/${topic}`), 404, "topic_not_found");
    expectProblem(await http.publish("bad!name", event()), 400, "invalid_name", "path:topic");
  });
});

describe("dev mode", () => {
  it("auto-creates unknown topics on publish and on subscription create", async () => {
    const dev = await startTestRouter({ autoCreateTopics: true });
    try {
      const devHttp = api(dev.url);
      const topic = uniqueName("auto");
      expect((await devHttp.publish(topic, event())).status).toBe(201);
      expect((await devHttp.get(`/v1/topics/${topic}`)).body.stats.events).toBe(1);

      const subTopic = uniqueName("autosub");
      const sub = uniqueName("s");
      expect((await devHttp.put(`/v1/subscriptions/${sub}`, { topic: subTopic })).status).toBe(201);
      expect((await devHttp.get(`/v1/topics/${subTopic}`)).status).toBe(200);
      expect((await devHttp.get(`/v1/topics/${subTopic}.${sub}.dlq`)).status).toBe(200);
      // Reading never creates.
      expectProblem(
        await devHttp.get(`/v1/topics/${uniqueName("r")}/events`),
        404,
        "topic_not_found",
      );
    } finally {
      await dev.dispose();
    }
  });
});
