/**
 * Access control against a real router over HTTP and WebSocket: an authorization matrix
 * generated from the route table (every route × seven credentials, and the stream's upgrade
 * × the same seven), scope before existence,
 * list filtering, the subscription escapes, and revocation on a running router; on the
 * embedded engine and, when nats-server is installed, on NATS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { generateKey } from "../../src/broker/keys.js";
import { createClient } from "../../src/client/index.js";
import { ROUTE_SCOPES, type ScopeRule } from "../../src/server/auth/route-scopes.js";
import { eventually } from "../support/eventually.js";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import { startTestRouter, type TestRouter } from "../support/router.js";
import { TEST_SECRET_KEY } from "../support/router-process.js";

const ADMIN = generateKey().key;
let router: TestRouter;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

async function call(
  method: string,
  path: string,
  key: string | undefined,
  body?: unknown,
  contentType = "application/json",
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers.authorization = key.startsWith("sy_") ? `Bearer ${key}` : key;
  if (body !== undefined) headers["content-type"] = contentType;
  const response = await fetch(`${router.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

const admin = (method: string, path: string, body?: unknown) => call(method, path, ADMIN, body);

/** A WebSocket upgrade with this credential: 101 when it opens (then closed), else the status. */
async function upgrade(path: string, key: string | undefined): Promise<number> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers.authorization = key.startsWith("sy_") ? `Bearer ${key}` : key;
  const socket = new WebSocket(`${router.url.replace(/^http/, "ws")}${path}`, { headers });
  const status = await new Promise<number>((resolve) => {
    socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    socket.once("open", () => resolve(101));
    socket.once("error", () => resolve(0));
  });
  socket.terminate();
  return status;
}

async function createKey(scopes: readonly string[], extra: Record<string, unknown> = {}) {
  const answer = await admin("POST", "/v1/keys", { name: "test", scopes, ...extra });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body as { id: string; key: string };
}

/** Waits until the router's view knows the key (the watch, well within 1 s). */
async function live(key: string): Promise<void> {
  await eventually(async () => expect((await call("GET", "/v1/keys/self", key)).status).toBe(200));
}

// The matrix's resources: a topic and a subscription on it.
const PARAMS: Record<string, string> = {
  topic: "m.orders",
  name: "m-sub",
  id: "0000000000000000",
  deadLetterTopic: "m.orders.m-sub.dlq",
  type: "m.order.placed",
  n: "1",
  correlationid: "m-flow",
  subject: "m-order-1",
};

const BODIES: Record<string, { body: unknown; type?: string }> = {
  "PUT /v1/subscriptions/:name": { body: { topic: PARAMS.topic } },
  "POST /v1/topics/:topic/events": {
    body: { specversion: "1.0", id: "e1", source: "test", type: "t" },
    type: "application/cloudevents+json",
  },
  "POST /v1/keys": { body: { name: "k", scopes: ["read:x"] } },
  "POST /v1/subscriptions/:name/pull": { body: { max: 1 } },
  "PUT /v1/schemas/:type": { body: { schema: { type: "object" } } },
  "POST /v1/schemas/:type/check": { body: { schema: { type: "object" } } },
  "PUT /v1/schemas/:type/config": { body: { compatibility: "NONE" } },
  "POST /v1/schemas/:type/infer": { body: { topic: PARAMS.topic } },
};

/** The scopes that grant a rule: the first alternative of each requirement in its label. */
function rightScopes(rule: ScopeRule): string[] {
  if (rule.type !== "needs") return ["metrics"];
  return rule.label
    .split(";")[0]
    ?.split(" and ")
    .map((need) => need.split(" or ")[0] ?? "")
    .map((need) => need.replace(/\{([A-Za-z]+)\}/g, (_m, p: string) => PARAMS[p] ?? p)) as string[];
}

const WRONG = [
  "read:nothing.*",
  "publish:nothing",
  "consume:nothing",
  "manage:nothing",
  "schemas:x",
];

const ENGINES = natsServerAvailable() ? ["sqlite", "nats"] : ["sqlite"];

describe.each(ENGINES)("access control on %s", (engine) => {
  let nats: NatsServers | undefined;

  beforeAll(async () => {
    if (engine === "nats") nats = await startNatsServer();
    const store =
      nats === undefined
        ? {}
        : {
            engine: "nats" as const,
            nats: { url: nats.url, prefix: `AU${Date.now().toString(36)}` },
            secretKeys: TEST_SECRET_KEY,
          };
    router = await startTestRouter({
      auth: true,
      adminKey: ADMIN,
      autoCreateTopics: true,
      ...store,
    });
  }, 60_000);

  afterAll(async () => {
    await router?.dispose();
    await nats?.close();
  });

  describe("the authorization matrix", () => {
    it("every route × {none, malformed, unknown, revoked, expired, right, wrong}", async () => {
      await admin("PUT", `/v1/topics/${PARAMS.topic}`, {});
      await admin("PUT", `/v1/subscriptions/${PARAMS.name}`, { topic: PARAMS.topic });
      const wrong = await createKey(WRONG);
      const revoked = await createKey(["admin"]);
      const expired = await createKey(["admin"], {
        expiresAt: new Date(Date.now() + 1_500).toISOString(),
      });
      await live(revoked.key);
      expect((await admin("DELETE", `/v1/keys/${revoked.id}`)).status).toBe(204);
      await eventually(async () =>
        expect((await call("GET", "/v1/keys/self", revoked.key)).status).toBe(401),
      );
      await eventually(async () =>
        expect((await call("GET", "/v1/keys/self", expired.key)).status).toBe(401),
      );
      await live(wrong.key);

      const credentials: Record<string, string | undefined> = {
        none: undefined,
        malformed: "Bearer not-a-key",
        unknown: generateKey().key,
        revoked: revoked.key,
        expired: expired.key,
      };
      let rows = 0;
      for (const [route, rule] of ROUTE_SCOPES) {
        const [method = "", pattern = ""] = route.split(" ");
        const path = pattern.replace(/:([A-Za-z]+)/g, (_m, p: string) => PARAMS[p] ?? p);
        const spec = BODIES[route];
        const send = (key: string | undefined) => call(method, path, key, spec?.body, spec?.type);
        for (const [label, key] of Object.entries(credentials)) {
          const answer = await send(key);
          const where = `${route} with ${label}: ${JSON.stringify(answer.body)}`;
          if (rule.type === "open" || (rule.type === "optional" && key === undefined))
            expect([401, 403], where).not.toContain(answer.status);
          else {
            expect(answer.status, where).toBe(401);
            expect(answer.body.code, where).toBe("unauthenticated");
            expect(answer.headers.get("www-authenticate"), where).toBe("Bearer");
            if (key !== undefined) expect(JSON.stringify(answer.body), where).not.toContain(key);
          }
          rows++;
        }
        const right = await createKey(rightScopes(rule));
        await live(right.key);
        const allowed = await send(right.key);
        if (rule.type === "session") {
          // A key is not a session: these routes take the session cookie only (ui-session tests).
          for (const key of [right.key, wrong.key])
            expect((await send(key)).body.code, route).toBe("unauthenticated");
          rows += 2;
          continue;
        }
        expect(
          [401, 403],
          `${route} with the right scopes: ${JSON.stringify(allowed.body)}`,
        ).not.toContain(allowed.status);
        const refused = await send(wrong.key);
        const where = `${route} with wrong scopes: ${JSON.stringify(refused.body)}`;
        if (rule.type === "needs") {
          expect(refused.status, where).toBe(403);
          expect(refused.body.code, where).toBe("forbidden");
          expect(String(refused.body.detail), where).toContain(rightScopes(rule)[0]);
        } else expect([401, 403], where).not.toContain(refused.status);
        rows += 2;
      }
      expect(rows).toBe(ROUTE_SCOPES.size * 7);

      // The stream's WebSocket upgrade, with the same seven credentials (the walk above
      // deleted the subscription with the right scopes).
      await admin("PUT", `/v1/topics/${PARAMS.topic}`, {});
      await admin("PUT", `/v1/subscriptions/${PARAMS.name}`, { topic: PARAMS.topic });
      const consumer = await createKey(["consume:m-sub"]);
      await live(consumer.key);
      const upgrades: Record<string, number> = {};
      for (const [label, key] of Object.entries({
        ...credentials,
        right: consumer.key,
        wrong: wrong.key,
      }))
        upgrades[label] = await upgrade(`/v1/subscriptions/${PARAMS.name}/stream`, key);
      expect(upgrades).toEqual({
        none: 401,
        malformed: 401,
        unknown: 401,
        revoked: 401,
        expired: 401,
        right: 101,
        wrong: 403,
      });
    });
  });

  describe("scopes", () => {
    it("are checked before existence", async () => {
      await admin("PUT", "/v1/topics/s.exists", {});
      const narrow = await createKey(["read:other.*"]);
      await live(narrow.key);
      for (const topic of ["s.exists", "s.missing"]) {
        const answer = await call("GET", `/v1/topics/${topic}`, narrow.key);
        expect(answer.status).toBe(403);
        expect(answer.body.detail).toContain(`read:${topic}`);
      }
      const broad = await createKey(["read:s.*"]);
      await live(broad.key);
      expect((await call("GET", "/v1/topics/s.missing", broad.key)).status).toBe(404);
      expect((await call("GET", "/v1/topics/s.exists", broad.key)).status).toBe(200);
    });

    it("a flow leaves out the events of topics the key may not read, and counts them", async () => {
      for (const topic of ["f-a.orders", "f-b.payments"])
        await admin("PUT", `/v1/topics/${topic}`, { indexes: ["correlationid"] });
      const type = "application/cloudevents+json";
      const event = (id: string, extra: Record<string, string> = {}) => ({
        specversion: "1.0",
        id,
        source: "test",
        type: "t",
        correlationid: "f-flow",
        ...extra,
      });
      await call("POST", "/v1/topics/f-a.orders/events", ADMIN, event("fa1"), type);
      await call(
        "POST",
        "/v1/topics/f-b.payments/events",
        ADMIN,
        event("fb1", { causationid: "fa1" }),
        type,
      );
      const key = await createKey(["read:f-a.*"]);
      await live(key.key);
      const narrow = await call("GET", "/v1/flows/f-flow", key.key);
      expect(narrow.status).toBe(200);
      expect((narrow.body.events as { id: string }[]).map((e) => e.id)).toEqual(["fa1"]);
      expect(narrow.body).toMatchObject({ hidden: 1, edges: [], truncated: false });
      const all = await call("GET", "/v1/flows/f-flow", ADMIN);
      expect((all.body.events as { id: string }[]).map((e) => e.id)).toEqual(["fa1", "fb1"]);
      expect(all.body).toMatchObject({ hidden: 0, edges: [{ from: "fa1", to: "fb1" }] });
      // While a topic's index is built, a scoped key is not told that topic's name.
      await admin("PUT", "/v1/topics/f-c.secret", {});
      await call("POST", "/v1/topics/f-c.secret/events", ADMIN, event("fc1"), type);
      await admin("PUT", "/v1/topics/f-c.secret", { indexes: ["correlationid"] });
      const building = await call("GET", "/v1/flows/f-flow", key.key);
      // The NATS engine waits out other nodes' config caches (1 s) before it builds.
      if (engine === "nats") expect(building.status).toBe(409);
      if (building.status === 409) {
        expect(building.body.code).toBe("index_missing");
        expect(JSON.stringify(building.body)).not.toContain("f-c.secret");
      }
      await eventually(async () => {
        const done = await call("GET", "/v1/flows/f-flow", key.key);
        expect(done.body).toMatchObject({ hidden: 2 });
      });
    });

    it("lists show only what the key may see", async () => {
      for (const topic of ["l-a.one", "l-b.two"]) await admin("PUT", `/v1/topics/${topic}`, {});
      await admin("PUT", "/v1/subscriptions/la-sub", { topic: "l-a.one" });
      await admin("PUT", "/v1/subscriptions/lb-sub", { topic: "l-b.two" });
      const key = await createKey(["read:l-a.*", "consume:la-*"]);
      await live(key.key);
      const topics = (await call("GET", "/v1/topics", key.key)).body.topics as { name: string }[];
      // The dead-letter topic l-a.one.la-sub.dlq matches read:l-a.* too.
      expect(topics.map((t) => t.name).sort()).toEqual(["l-a.one", "l-a.one.la-sub.dlq"]);
      const subs = (await call("GET", "/v1/subscriptions", key.key)).body.subscriptions as {
        name: string;
      }[];
      expect(subs.map((s) => s.name)).toEqual(["la-sub"]);
      const all = (await admin("GET", "/v1/topics")).body.topics as { name: string }[];
      expect(all.map((t) => t.name)).toEqual(expect.arrayContaining(["l-a.one", "l-b.two"]));
    });

    it("a subscription cannot reach a topic the key cannot read, nor dead-letter into one it cannot manage", async () => {
      for (const topic of ["e.public", "e.secret"]) await admin("PUT", `/v1/topics/${topic}`, {});
      const key = await createKey(["manage:sneaky", "read:e.public", "manage:e.public.sneaky.dlq"]);
      await live(key.key);
      const onSecret = await call("PUT", "/v1/subscriptions/sneaky", key.key, {
        topic: "e.secret",
      });
      expect(onSecret.status).toBe(403);
      expect(onSecret.body.detail).toContain("read:e.secret");
      const intoSecret = await call("PUT", "/v1/subscriptions/sneaky", key.key, {
        topic: "e.public",
        deadLetterTopic: "e.secret",
      });
      expect(intoSecret.status).toBe(403);
      expect(intoSecret.body.detail).toContain("manage:e.secret");
      const noDefault = await createKey(["manage:sneaky2", "read:e.public"]);
      await live(noDefault.key);
      const defaulted = await call("PUT", "/v1/subscriptions/sneaky2", noDefault.key, {
        topic: "e.public",
      });
      expect(defaulted.status).toBe(403);
      expect(defaulted.body.detail).toContain("manage:e.public.sneaky2.dlq");
      const fine = await call("PUT", "/v1/subscriptions/sneaky", key.key, { topic: "e.public" });
      expect(fine.status).toBe(201);
      // An update that leaves the topic out is checked against the subscription's own topic.
      const reader = await createKey(["manage:sneaky", "manage:e.public.sneaky.dlq"]);
      await live(reader.key);
      const update = await call("PUT", "/v1/subscriptions/sneaky", reader.key, { maxAttempts: 3 });
      expect(update.status).toBe(403);
      expect(update.body.detail).toContain("read:e.public");
    });

    it("a forced topic delete needs manage: on every subscription it removes", async () => {
      await admin("PUT", "/v1/topics/f.topic", {});
      await admin("PUT", "/v1/subscriptions/f-sub", { topic: "f.topic" });
      const key = await createKey(["manage:f.topic"]);
      await live(key.key);
      const forced = await call("DELETE", "/v1/topics/f.topic?force=true", key.key);
      expect(forced.status).toBe(403);
      expect(forced.body.detail).toContain("manage:f-sub");
      const both = await createKey(["manage:f.topic", "manage:f-sub"]);
      await live(both.key);
      expect((await call("DELETE", "/v1/topics/f.topic?force=true", both.key)).status).toBe(204);
    });

    it("a publish creates an unknown topic only for a key with manage: on it", async () => {
      const event = { specversion: "1.0", id: "1", source: "t", type: "t" };
      const publisher = await createKey(["publish:p.*"]);
      const manager = await createKey(["publish:p.*", "manage:p.*"]);
      await live(publisher.key);
      await live(manager.key);
      const type = "application/cloudevents+json";
      const refused = await call("POST", "/v1/topics/p.new/events", publisher.key, event, type);
      expect(refused.status).toBe(404);
      expect(refused.body.code).toBe("topic_not_found");
      expect((await call("POST", "/v1/topics/p.new/events", manager.key, event, type)).status).toBe(
        201,
      );
      expect(
        (await call("POST", "/v1/topics/p.new/events", publisher.key, event, type)).status,
      ).toBe(201);
    });

    it("a subscription creates an unknown topic only for a key with manage: on it", async () => {
      const scopes = ["manage:as-sub", "read:as.*", "manage:as.new.as-sub.dlq"];
      const subscriber = await createKey(scopes);
      const manager = await createKey([...scopes, "manage:as.new"]);
      await live(subscriber.key);
      await live(manager.key);
      const refused = await call("PUT", "/v1/subscriptions/as-sub", subscriber.key, {
        topic: "as.new",
      });
      // Scope before existence: the key holds every scope the PUT needs, read: on the topic
      // among them, so the unknown topic is no secret to it: 404, as for a publish.
      expect(refused.status).toBe(404);
      expect(refused.body.code).toBe("topic_not_found");
      expect(refused.body.errors).toEqual([{ pointer: "/topic", message: "no such topic" }]);
      // Without read: on the topic it is 403 whether the topic exists or not.
      const blind = await createKey(["manage:as-sub", "manage:as.new.as-sub.dlq"]);
      await live(blind.key);
      const unread = await call("PUT", "/v1/subscriptions/as-sub", blind.key, { topic: "as.new" });
      expect(unread.status).toBe(403);
      expect(unread.body.detail).toContain("read:as.new");
      expect((await admin("GET", "/v1/topics/as.new")).status).toBe(404);
      expect((await admin("GET", "/v1/topics/as.new.as-sub.dlq")).status).toBe(404);
      expect((await admin("GET", "/v1/subscriptions/as-sub")).status).toBe(404);
      const created = await call("PUT", "/v1/subscriptions/as-sub", manager.key, {
        topic: "as.new",
      });
      expect(created.status).toBe(201);
      expect((await admin("GET", "/v1/topics/as.new")).status).toBe(200);
      // Once the topic exists, reading it is enough.
      const updated = await call("PUT", "/v1/subscriptions/as-sub", subscriber.key, {
        topic: "as.new",
        maxAttempts: 3,
      });
      expect(updated.status).toBe(200);
    });

    it("/v1/info shows the version only without a key; /v1/keys never shows a hash or secret", async () => {
      const anonymous = await call("GET", "/v1/info", undefined);
      expect(Object.keys(anonymous.body).sort()).toEqual(["name", "version"]);
      expect((await admin("GET", "/v1/info")).body.engine).toBe(engine);
      const created = await createKey(["read:x"]);
      const list = await admin("GET", "/v1/keys");
      const text = JSON.stringify(list.body);
      expect(text).toContain(created.id);
      expect(text).not.toContain(created.key.slice(-43));
      expect(text).not.toContain("hash");
      const bad = await admin("POST", "/v1/keys", { name: "x", scopes: ["read:a", "write:b"] });
      expect(bad.status).toBe(400);
      expect((bad.body.errors as { pointer: string }[]).map((e) => e.pointer)).toEqual([
        "/scopes/1",
      ]);
      expect((await admin("DELETE", "/v1/keys/nope")).body.code).toBe("key_not_found");
    });
  });

  describe("the SDK with an API key", () => {
    it("sends it on requests and on the stream; admin.keys manages keys", async () => {
      await admin("PUT", "/v1/topics/k.topic", {});
      await admin("PUT", "/v1/subscriptions/k-sub", { topic: "k.topic", start: "earliest" });
      const root = createClient({ url: router.url, apiKey: ADMIN });
      const created = await root.admin.keys.create({
        name: "sdk",
        scopes: ["publish:k.*", "consume:k-sub"],
      });
      expect(created.key).toMatch(/^sy_/);
      expect((await root.admin.keys.list()).map((k) => k.id)).toContain(created.id);
      const client = createClient({ url: router.url, apiKey: created.key });
      await eventually(async () => expect((await client.admin.keys.self()).name).toBe("sdk"));
      await client.publish("k.topic", { type: "t", data: { n: 1 } });
      const seen: unknown[] = [];
      const subscriber = client.subscribe("k-sub", (delivery) => {
        seen.push(delivery.event.data);
      });
      await eventually(() => expect(seen).toEqual([{ n: 1 }]));
      await subscriber.close();
      // publish:k.* sees the topic and its dead-letter topic, nothing else.
      const names = (await client.admin.topics.list()).map((t) => t.name).sort();
      expect(names).toEqual(["k.topic", "k.topic.k-sub.dlq"]);
      await root.admin.keys.revoke(created.id);
      await client.close();
      await root.close();
    });
  });

  describe("revocation on a running router", () => {
    it("fails the key within 1 s and closes its open streams with 4401", async () => {
      await admin("PUT", "/v1/topics/r.topic", {});
      await admin("PUT", "/v1/subscriptions/r-sub", { topic: "r.topic" });
      const key = await createKey(["consume:r-sub"]);
      await live(key.key);
      const url = `${router.url.replace(/^http/, "ws")}/v1/subscriptions/r-sub/stream`;
      const refused = new WebSocket(url);
      const status = await new Promise<number>((resolve) => {
        refused.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        refused.once("open", () => resolve(101));
      });
      expect(status).toBe(401);
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${key.key}` } });
      await new Promise((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("error", reject);
      });
      const closed = new Promise<number>((resolve) =>
        socket.once("close", (code) => resolve(code)),
      );
      const revokedAt = Date.now();
      expect((await admin("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
      await eventually(
        async () => expect((await call("GET", "/v1/keys/self", key.key)).status).toBe(401),
        { timeoutMs: 1_000 },
      );
      expect(await closed).toBe(4401);
      expect(Date.now() - revokedAt).toBeLessThan(1_500);
    });

    it("closes a stream with 4401 when its key expires", async () => {
      const key = await createKey(["consume:r-sub"], {
        expiresAt: new Date(Date.now() + 2_000).toISOString(),
      });
      await live(key.key);
      const url = `${router.url.replace(/^http/, "ws")}/v1/subscriptions/r-sub/stream`;
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${key.key}` } });
      const closed = new Promise<number>((resolve) =>
        socket.once("close", (code) => resolve(code)),
      );
      await new Promise((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("error", reject);
      });
      expect(await closed).toBe(4401);
    });
  });
});
