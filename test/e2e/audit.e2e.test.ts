/**
 * The audit trail over a real router: each administrative action lands in `switchyard.audit`
 * with the request's key as `data.actor` (null without auth), refused credentials are written
 * at most once a second with a count of those dropped, and no event holds a secret.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateKey } from "../../src/broker/keys.js";
import { run } from "../../src/cli/main.js";
import { eventually } from "../support/eventually.js";
import { api, startTestRouter, type TestRouter, uniqueName } from "../support/router.js";

interface AuditEvent {
  readonly type: string;
  readonly subject: string;
  readonly data: Record<string, unknown> & { actor: { id: string; name: string } | null };
}

type Http = ReturnType<typeof api>;

async function auditEvents(http: Http): Promise<{ events: AuditEvent[]; text: string }> {
  const answer = await http.get("/v1/topics/switchyard.audit/events?from=1&limit=1000");
  expect(answer.status, answer.text).toBe(200);
  return { events: answer.body.events as AuditEvent[], text: answer.text };
}

/** Creates and deletes a topic and a subscription and seeks it; answers their names. */
async function administer(http: Http): Promise<{ topic: string; sub: string }> {
  const topic = uniqueName("audit-t");
  const sub = uniqueName("audit-s");
  expect((await http.put(`/v1/topics/${topic}`, {})).status).toBe(201);
  expect((await http.put(`/v1/topics/${topic}`, { dedupeWindowMs: 0 })).status).toBe(200);
  expect((await http.put(`/v1/subscriptions/${sub}`, { topic })).status).toBe(201);
  expect((await http.post(`/v1/subscriptions/${sub}/seek`, { to: "earliest" })).status).toBe(200);
  expect((await http.del(`/v1/subscriptions/${sub}`)).status).toBe(204);
  expect((await http.del(`/v1/topics/${topic}`)).status).toBe(204);
  return { topic, sub };
}

const ADMINISTERED = (topic: string, sub: string) => [
  ["switchyard.topic.created", topic],
  ["switchyard.topic.updated", topic],
  ["switchyard.subscription.created", sub],
  ["switchyard.subscription.seeked", sub],
  ["switchyard.subscription.deleted", sub],
  ["switchyard.topic.deleted", topic],
];

describe("audit trail with auth", () => {
  const ADMIN = generateKey();
  let router: TestRouter;
  let http: Http;
  const adminId = ADMIN.id;

  beforeAll(async () => {
    router = await startTestRouter({ auth: true, adminKey: ADMIN.key });
    const plain = api(() => router.url);
    const withKey = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
    // Every call of `http` carries the admin key.
    const call = plain.call;
    http = {
      ...plain,
      get: (path, options) => call("GET", path, { ...withKey(ADMIN.key), ...options }),
      put: (path, body, options) => call("PUT", path, { ...withKey(ADMIN.key), ...options, body }),
      post: (path, body, options) =>
        call("POST", path, { ...withKey(ADMIN.key), ...options, body }),
      del: (path, options) => call("DELETE", path, { ...withKey(ADMIN.key), ...options }),
    };
  }, 60_000);

  afterAll(async () => {
    await router?.dispose();
  });

  it("records each action with the key that made it", async () => {
    const { topic, sub } = await administer(http);
    const { events } = await auditEvents(http);
    const mine = events.filter((e) => e.subject === topic || e.subject === sub);
    expect(mine.map((e) => [e.type, e.subject])).toEqual(ADMINISTERED(topic, sub));
    for (const e of mine)
      expect(e.data.actor).toEqual({ id: adminId, name: "admin (SWITCHYARD_ADMIN_KEY)" });
  });

  it("records SWITCHYARD_ADMIN_KEY's registration at start once, with a null actor and via", async () => {
    const { events, text } = await auditEvents(http);
    const registered = events.filter(
      (e) => e.type === "switchyard.key.created" && e.subject === adminId,
    );
    expect(registered).toHaveLength(1);
    expect(registered[0]?.data).toMatchObject({
      actor: null,
      via: "SWITCHYARD_ADMIN_KEY",
      key: { id: adminId, name: "admin (SWITCHYARD_ADMIN_KEY)", scopes: ["admin"] },
    });
    expect(text).not.toContain(ADMIN.secret);
    // A restart finds the key registered: nothing written, nothing audited again.
    await router.close();
    router = await startTestRouter({ auth: true, adminKey: ADMIN.key, dataDir: router.dataDir });
    const again = (await auditEvents(http)).events.filter(
      (e) => e.type === "switchyard.key.created" && e.subject === adminId,
    );
    expect(again).toHaveLength(1);
  });

  it("records key creation and revocation, never the key", async () => {
    const created = await http.post("/v1/keys", { name: "audited", scopes: ["read:*"] });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect((await http.del(`/v1/keys/${created.body.id}`)).status).toBe(204);
    const { events, text } = await auditEvents(http);
    const mine = events.filter((e) => e.subject === created.body.id);
    expect(mine.map((e) => e.type)).toEqual(["switchyard.key.created", "switchyard.key.revoked"]);
    expect(mine[0]?.data.key).toMatchObject({ id: created.body.id, name: "audited" });
    for (const e of mine) expect(e.data.actor?.id).toBe(adminId);
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(20)); // the secret part
  });

  it("writes refused credentials at most once a second, counting those dropped", async () => {
    const bad = generateKey();
    const before = (await auditEvents(http)).events.filter(
      (e) => e.type === "switchyard.auth.refused",
    ).length;
    // Wait out the second of any refusal written before this test.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${router.url}/v1/topics`, { headers: { authorization: `Bearer ${bad.key}` } }).then(
          (r) => r.status,
        ),
      ),
    );
    const within = Date.now() - started;
    expect(statuses.every((s) => s === 401)).toBe(true);
    const refused = async () =>
      (await auditEvents(http)).events
        .filter((e) => e.type === "switchyard.auth.refused")
        .slice(before);
    await eventually(async () => expect((await refused()).length).toBeGreaterThan(0));
    expect((await refused())[0]?.data).toMatchObject({
      reason: "unknown",
      keyId: bad.id,
      route: "GET /v1/topics",
      suppressed: 0,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const next = await fetch(`${router.url}/v1/topics`, {
      headers: { authorization: "Bearer not-a-key" },
    });
    expect(next.status).toBe(401);
    await eventually(async () =>
      expect((await refused()).some((e) => e.data.reason === "malformed")).toBe(true),
    );
    const written = await refused();
    const last = written.at(-1);
    expect(last?.data).toMatchObject({ reason: "malformed", keyId: null });
    // All 20 fall in one second unless the machine is very slow: then a second one was
    // written mid-burst. Either way every refusal is written or counted exactly once.
    const burst = written.slice(0, -1);
    if (within < 1_000) {
      expect(burst).toHaveLength(1);
      expect(last?.data.suppressed).toBe(19);
    }
    const counted = written.slice(1).reduce((sum, e) => sum + Number(e.data.suppressed), 0);
    expect(burst.length + counted).toBe(20);
    const { text } = await auditEvents(http);
    expect(text).not.toContain(bad.key);
    expect(text).not.toContain(bad.key.slice(20));
    expect(text).not.toContain(ADMIN.key.slice(20));
  });

  it("prints the trail with `switchyard audit tail`: time, type, actor, subject", async () => {
    const { topic } = await administer(http);
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await run([
        "node",
        "switchyard",
        "audit",
        "tail",
        "--url",
        router.url,
        "--api-key",
        ADMIN.key,
      ]);
    } finally {
      write.mockRestore();
    }
    expect(code).toBe(0);
    const created = lines.find(
      (l) => l.includes(`switchyard.topic.created`) && l.endsWith(`${topic}\n`),
    );
    expect(created).toMatch(
      /^\d{4}-\d\d-\d\dT\S+Z {2}switchyard\.topic\.created {2}admin \(SWITCHYARD_ADMIN_KEY\) {2}/,
    );
    expect(lines.join("")).not.toContain(ADMIN.key.slice(20));
  });

  it("keeps the audit topic 30 days and refuses a client's publish", async () => {
    const topic = await http.get("/v1/topics/switchyard.audit");
    expect(topic.body.retention).toMatchObject({ maxAgeMs: 30 * 24 * 3_600_000 });
    expect(topic.body.owner).toBe("router");
    const publish = await http.call("POST", "/v1/topics/switchyard.audit/events", {
      raw: JSON.stringify({ specversion: "1.0", id: "x", source: "/me", type: "forged" }),
      headers: {
        authorization: `Bearer ${ADMIN.key}`,
        "content-type": "application/cloudevents+json",
      },
    });
    expect(publish.status).toBe(403);
  });
});

describe("audit trail without auth", () => {
  let router: TestRouter;
  let http: Http;

  beforeAll(async () => {
    router = await startTestRouter();
    http = api(() => router.url);
  }, 60_000);

  afterAll(async () => {
    await router?.dispose();
  });

  it("records each action with a null actor, a client's claim apart", async () => {
    const { topic, sub } = await administer(http);
    const { events } = await auditEvents(http);
    const mine = events.filter((e) => e.subject === topic || e.subject === sub);
    expect(mine.map((e) => [e.type, e.subject])).toEqual(ADMINISTERED(topic, sub));
    for (const e of mine) expect(e.data.actor).toBeNull();
  });
});
