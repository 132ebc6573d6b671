/**
 * Router-owned topics over HTTP: dead-letter topics and `switchyard.*` take no publishes in
 * any mode, an ordinary topic never becomes a dead-letter topic, redrive still moves dead
 * letters, and a store whose dead-letter topics predate the marker is marked at start.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import {
  type Api,
  api,
  event,
  expectProblem,
  routerPerFile,
  startTestRouter,
  uniqueName,
} from "../support/router.js";

const router = routerPerFile();
const http = api(() => router.url);
const dev = routerPerFile({ autoCreateTopics: true });
const devHttp = api(() => dev.url);

function publishBinary(client: Api, topic: string, extra: Record<string, string> = {}) {
  return client.call("POST", `/v1/topics/${topic}/events`, {
    raw: JSON.stringify({ n: 1 }),
    headers: {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": uniqueName("bin"),
      "ce-source": "/test",
      "ce-type": "test.happened",
      ...extra,
    },
  });
}

/** Every way to publish to `topic`: structured, batch and binary. */
function publishEveryMode(client: Api, topic: string) {
  return Promise.all([
    client.publish(topic, event()),
    client.publish(topic, [event(), event()]),
    publishBinary(client, topic),
  ]);
}

async function topicEvents(client: Api, topic: string): Promise<unknown[]> {
  const res = await client.get(`/v1/topics/${topic}/events?from=1&limit=1000`);
  expect(res.status).toBe(200);
  return res.body.events;
}

/** A subscription with one event rejected into its dead-letter topic. */
async function deadLettered(client: Api): Promise<{ topic: string; sub: string; dlq: string }> {
  const topic = uniqueName("src");
  const sub = uniqueName("s");
  expect((await client.put(`/v1/topics/${topic}`, {})).status).toBe(201);
  const created = await client.put(`/v1/subscriptions/${sub}`, { topic, start: "earliest" });
  expect(created.status).toBe(201);
  expect((await client.publish(topic, event({ id: "poison" }))).status).toBe(201);
  const [delivery] = (await client.post(`/v1/subscriptions/${sub}/pull`, { max: 1 })).body
    .deliveries;
  await client.post(`/v1/subscriptions/${sub}/reject`, {
    ackIds: [delivery.ackId],
    reason: "bad data",
  });
  return { topic, sub, dlq: created.body.deadLetterTopic };
}

describe("publishing to router-owned topics", () => {
  it("a dead-letter topic answers 403 in every mode, says to redrive, and stores nothing", async () => {
    const { dlq } = await deadLettered(http);
    const before = await topicEvents(http, dlq);
    expect(before).toHaveLength(1);
    for (const res of await publishEveryMode(http, dlq)) {
      expectProblem(res, 403, "forbidden", "path:topic");
      expect(res.body.detail).toContain("only the router appends");
      expect(res.body.detail).toContain("redrive");
    }
    expect(await topicEvents(http, dlq)).toEqual(before);
    expect((await http.get(`/v1/topics/${dlq}`)).body.stats.lastOffset).toBe(1);
  });

  it("switchyard.* answers 403 whether it exists or not, and auto-create never makes one", async () => {
    const existing = `switchyard.${uniqueName("mine")}`;
    expect((await http.put(`/v1/topics/${existing}`, {})).status).toBe(201);
    for (const res of await publishEveryMode(http, existing))
      expectProblem(res, 403, "forbidden", "path:topic");
    expect(await topicEvents(http, existing)).toEqual([]);

    for (const res of await publishEveryMode(http, "switchyard.audit")) {
      expectProblem(res, 403, "forbidden");
      expect(res.body.detail).toContain("belongs to the router");
    }
    const unknown = `switchyard.${uniqueName("nope")}`;
    for (const res of await publishEveryMode(devHttp, unknown))
      expectProblem(res, 403, "forbidden");
    expectProblem(await devHttp.get(`/v1/topics/${unknown}`), 404, "topic_not_found");
  });

  it("the topic view shows the owner: router for dead-letter and switchyard.* topics, else null", async () => {
    const { topic, dlq } = await deadLettered(http);
    expect((await http.get(`/v1/topics/${dlq}`)).body.owner).toBe("router");
    expect((await http.get(`/v1/topics/${topic}`)).body.owner).toBeNull();
    const audit = await http.put("/v1/topics/switchyard.audit", {
      retention: { maxAgeMs: 60_000 },
    });
    expect(audit.body.owner).toBe("router");
    const listed = (await http.get("/v1/topics")).body.topics;
    const ownerOf = (name: string) => listed.find((t: { name: string }) => t.name === name)?.owner;
    expect([ownerOf(dlq), ownerOf(topic), ownerOf("switchyard.audit")]).toEqual([
      "router",
      null,
      "router",
    ]);
  });

  it("a dead-letter topic's settings can change, and it stays router-owned whatever the body says", async () => {
    const { dlq } = await deadLettered(http);
    const got = (await http.get(`/v1/topics/${dlq}`)).body;
    const updated = await http.put(`/v1/topics/${dlq}`, {
      ...got,
      owner: null,
      retention: { maxEvents: 50 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ owner: "router", retention: { maxEvents: 50 } });
    expect((await http.get(`/v1/topics/${dlq}`)).body.owner).toBe("router");
    expectProblem(await http.publish(dlq, event()), 403, "forbidden");

    const plain = uniqueName("plain");
    const made = await http.put(`/v1/topics/${plain}`, { owner: "router" });
    expect(made.body.owner).toBeNull();
    expect((await http.publish(plain, event())).status).toBe(201);
  });
});

describe("reserved attributes", () => {
  it("subjectversion and deadletter* on a publish answer 400 reserved_attribute, nothing stored", async () => {
    const topic = uniqueName("res");
    await http.put(`/v1/topics/${topic}`, {});
    for (const name of [
      "subjectversion",
      "deadletterreason",
      "deadlettersubscription",
      "deadletterx",
    ])
      expectProblem(
        await http.publish(topic, event({ [name]: "1" })),
        400,
        "reserved_attribute",
        `/${name}`,
      );
    expectProblem(
      await http.publish(topic, [event(), event({ deadletterattempts: 3 })]),
      400,
      "reserved_attribute",
      "/1/deadletterattempts",
    );
    expectProblem(
      await publishBinary(http, topic, { "ce-deadletterreason": "forged" }),
      400,
      "reserved_attribute",
    );
    expect(await topicEvents(http, topic)).toEqual([]);
  });
});

describe("dead-letter topics of subscriptions", () => {
  it("an existing ordinary topic as deadLetterTopic answers 409 at /deadLetterTopic, nothing created", async () => {
    const ordinary = uniqueName("ord");
    await devHttp.put(`/v1/topics/${ordinary}`, {});
    const source = uniqueName("nosrc");
    const sub = uniqueName("s");
    const res = await devHttp.put(`/v1/subscriptions/${sub}`, {
      topic: source,
      deadLetterTopic: ordinary,
    });
    expectProblem(res, 409, "topic_in_use", "/deadLetterTopic");
    expectProblem(await devHttp.get(`/v1/subscriptions/${sub}`), 404, "subscription_not_found");
    // Auto-create is on, yet the refused PUT created not even the topic it would read.
    expectProblem(await devHttp.get(`/v1/topics/${source}`), 404, "topic_not_found");
    expect((await devHttp.get(`/v1/topics/${ordinary}`)).body.owner).toBeNull();
    expect((await devHttp.publish(ordinary, event())).status).toBe(201);
  });

  it("so does an ordinary topic that happens to carry the default dead-letter name", async () => {
    const topic = uniqueName("src");
    const sub = uniqueName("s");
    await http.put(`/v1/topics/${topic}`, {});
    await http.put(`/v1/topics/${topic}.${sub}.dlq`, {});
    const res = await http.put(`/v1/subscriptions/${sub}`, { topic });
    expectProblem(res, 409, "topic_in_use", "/deadLetterTopic");
    expect(res.body.detail).toContain("the default dead-letter topic");
    expectProblem(await http.get(`/v1/subscriptions/${sub}`), 404, "subscription_not_found");
  });

  it("a switchyard.* dead-letter topic answers 400, given or defaulted", async () => {
    const topic = uniqueName("src");
    await http.put(`/v1/topics/${topic}`, {});
    const sub = uniqueName("s");
    expectProblem(
      await http.put(`/v1/subscriptions/${sub}`, { topic, deadLetterTopic: "switchyard.audit" }),
      400,
      "invalid_request",
      "/deadLetterTopic",
    );
    expectProblem(
      await http.put(`/v1/subscriptions/${sub}`, { topic, deadLetterTopic: "switchyard.x.dlq" }),
      400,
      "invalid_request",
      "/deadLetterTopic",
    );
    await http.put("/v1/topics/switchyard.audit", {});
    const auditReader = uniqueName("audit");
    expectProblem(
      await http.put(`/v1/subscriptions/${auditReader}`, { topic: "switchyard.audit" }),
      400,
      "invalid_request",
      "/deadLetterTopic",
    );
    const named = await http.put(`/v1/subscriptions/${auditReader}`, {
      topic: "switchyard.audit",
      deadLetterTopic: uniqueName("audit-dlq"),
    });
    expect(named.status).toBe(201);
  });

  it("a subscription re-created after its deletion takes its orphaned dead-letter topic back", async () => {
    const { topic, sub, dlq } = await deadLettered(http);
    expect((await http.del(`/v1/subscriptions/${sub}`)).status).toBe(204);
    expect((await http.get(`/v1/topics/${dlq}`)).body.owner).toBe("router");
    const again = await http.put(`/v1/subscriptions/${sub}`, { topic });
    expect(again.status).toBe(201);
    expect(again.body.deadLetterTopic).toBe(dlq);
    expect(await topicEvents(http, dlq)).toHaveLength(1);
  });

  it("another subscription may share a router-owned dead-letter topic; updates keep working", async () => {
    const { topic, sub, dlq } = await deadLettered(http);
    const other = uniqueName("s");
    const shared = await http.put(`/v1/subscriptions/${other}`, { topic, deadLetterTopic: dlq });
    expect(shared.status).toBe(201);
    const update = await http.put(`/v1/subscriptions/${sub}`, { topic, maxAttempts: 3 });
    expect(update.status).toBe(200);
    expect(update.body.maxAttempts).toBe(3);
  });

  it("redrive still moves dead letters back, and the dead-letter topic still refuses publishes", async () => {
    const { sub, dlq } = await deadLettered(http);
    const [copy] = await topicEvents(http, dlq);
    expect(copy).toMatchObject({
      id: "poison",
      deadletterreason: "bad data",
      deadlettersubscription: sub,
    });
    const started = await http.post(`/v1/subscriptions/${sub}/redrive`, {});
    expect(started.status).toBe(202);
    expect(started.body.matched).toBe(1);
    const again = await eventually(async () => {
      const pulled = await http.post(`/v1/subscriptions/${sub}/pull`, { max: 10 });
      expect(pulled.body.deliveries).toHaveLength(1);
      return pulled.body.deliveries[0];
    });
    expect(again).toMatchObject({ attempt: 1, event: { id: "poison" } });
    expect(again.event.deadletterreason).toBeUndefined();
    await http.post(`/v1/subscriptions/${sub}/reject`, {
      ackIds: [again.ackId],
      reason: "still bad",
    });
    await eventually(async () => expect(await topicEvents(http, dlq)).toHaveLength(2));
    expectProblem(await http.publish(dlq, event()), 403, "forbidden");
  });
});

describe("a store written before the marker", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "switchyard-owned-upgrade-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("has its dead-letter topics marked at the next start; its subscriptions still update", async () => {
    const first = await startTestRouter({ dataDir });
    const client = api(first.url);
    const { topic, sub, dlq } = await deadLettered(client);
    const bystander = uniqueName("plain");
    await client.put(`/v1/topics/${bystander}`, {});
    await first.close();

    const db = new DatabaseSync(join(dataDir, "switchyard.db"));
    db.exec("UPDATE topics SET owner = NULL");
    db.close();

    const second = await startTestRouter({ dataDir });
    try {
      const after = api(second.url);
      expect((await after.get(`/v1/topics/${dlq}`)).body.owner).toBe("router");
      expect((await after.get(`/v1/topics/${bystander}`)).body.owner).toBeNull();
      expectProblem(await after.publish(dlq, event()), 403, "forbidden");
      const update = await after.put(`/v1/subscriptions/${sub}`, { topic, maxAttempts: 4 });
      expect(update.status).toBe(200);
      expect(await topicEvents(after, dlq)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
