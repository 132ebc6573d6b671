/**
 * The schema registry over real HTTP, on SQLite and on NATS: versions from 1, an equal schema
 * answers its existing version, invalid and breaking schemas are refused with pointers, the
 * compatibility mode is configurable (also before the first version), `check` stores
 * nothing, unknown types and versions are 404, concurrent registrations get versions 1..k
 * without a gap or a duplicate, a restart keeps everything, and a second node of one
 * JetStream sees a new version within 1 s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/broker/keys.js";
import { createClient } from "../../src/client/index.js";
import type { RouterOptions } from "../../src/index.js";
import { eventually } from "../support/eventually.js";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import {
  type Api,
  api,
  expectProblem,
  startTestRouter,
  type TestRouter,
  uniqueName,
} from "../support/router.js";
import { TEST_SECRET_KEY } from "../support/router-process.js";

/** v1 of an order: closed content model, `id` required. */
const V1 = {
  type: "object",
  properties: { id: { type: "string" } },
  required: ["id"],
  additionalProperties: false,
};
/** v2 adds an optional property: BACKWARD-compatible in a closed model (API.md). */
const V2 = {
  type: "object",
  properties: { id: { type: "string" }, note: { type: "string" } },
  required: ["id"],
  additionalProperties: false,
};
/** v3 makes a new property required: events valid under v2 lack it. */
const BREAKING = {
  type: "object",
  properties: { id: { type: "string" }, note: { type: "string" }, currency: { type: "string" } },
  required: ["id", "currency"],
  additionalProperties: false,
};

/** The same schema as V1, keys in another order. */
const V1_REORDERED = {
  additionalProperties: false,
  required: ["id"],
  properties: { id: { type: "string" } },
  type: "object",
};

type Start = (options?: Partial<RouterOptions>) => Promise<TestRouter>;

/** The contract, run against one engine; `start` opens a router on the engine's shared store. */
function registryContract(start: Start): void {
  let router: TestRouter;
  let http: Api;

  beforeAll(async () => {
    router = await start();
    http = api(() => router.url);
  }, 60_000);
  afterAll(async () => {
    await router?.dispose();
  });

  it("registers versions from 1; an equal schema answers its version with 200", async () => {
    const type = uniqueName("order.placed");
    const first = await http.put(`/v1/schemas/${type}`, { schema: V1 });
    expect(first.status, first.text).toBe(201);
    expect(first.body).toEqual({ type, version: 1 });
    const again = await http.put(`/v1/schemas/${type}`, { schema: V1_REORDERED });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual({ type, version: 1 });
    const second = await http.put(`/v1/schemas/${type}`, { schema: V2 });
    expect(second.status, second.text).toBe(201);
    expect(second.body).toEqual({ type, version: 2 });

    const whole = await http.get(`/v1/schemas/${type}`);
    expect(whole.status).toBe(200);
    expect(whole.body).toMatchObject({ type, compatibility: "BACKWARD", schema: V2 });
    expect(whole.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    for (const v of whole.body.versions)
      expect(Date.parse(v.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    const one = await http.get(`/v1/schemas/${type}/versions/1`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ type, version: 1, schema: V1 });
    const list = await http.get("/v1/schemas");
    expect(list.status).toBe(200);
    expect(list.body.schemas).toContainEqual({ type, latest: 2, compatibility: "BACKWARD" });
  });

  it("refuses an invalid schema with 400 invalid_schema and a pointer, storing nothing", async () => {
    const type = uniqueName("bad");
    const answer = await http.put(`/v1/schemas/${type}`, {
      schema: { type: "object", properties: { id: { type: "strng" } } },
    });
    expectProblem(answer, 400, "invalid_schema");
    expect(answer.body.errors[0].pointer).toMatch(/^\/properties\/id/);
    const remote = await http.put(`/v1/schemas/${type}`, {
      schema: { $ref: "https://example.com/other.json" },
    });
    expectProblem(remote, 400, "invalid_schema", "/$ref");
    expectProblem(await http.put(`/v1/schemas/${type}`, {}), 400, "invalid_request", "/schema");
    expectProblem(await http.get(`/v1/schemas/${type}`), 404, "schema_not_found");
  });

  it("refuses a breaking change with 409 pointing at the new required property", async () => {
    const type = uniqueName("order.paid");
    expect((await http.put(`/v1/schemas/${type}`, { schema: V1 })).status).toBe(201);
    expect((await http.put(`/v1/schemas/${type}`, { schema: V2 })).status).toBe(201);
    const answer = await http.put(`/v1/schemas/${type}`, { schema: BREAKING });
    expectProblem(answer, 409, "schema_incompatible", "/required/1");
    const problem = answer.body.errors.find(
      (e: { pointer: string }) => e.pointer === "/required/1",
    );
    expect(problem.message).toContain("currency");
    expect((await http.get(`/v1/schemas/${type}`)).body.versions).toHaveLength(2);
  });

  it("check answers compatibility and stores nothing", async () => {
    const type = uniqueName("order.checked");
    expect((await http.put(`/v1/schemas/${type}`, { schema: V1 })).status).toBe(201);
    const ok = await http.post(`/v1/schemas/${type}/check`, { schema: V2 });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ compatible: true, errors: [] });
    const breaking = await http.post(`/v1/schemas/${type}/check`, { schema: BREAKING });
    expect(breaking.status).toBe(200);
    expect(breaking.body.compatible).toBe(false);
    expect(breaking.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(
      "/required/1",
    );
    const whole = await http.get(`/v1/schemas/${type}`);
    expect(whole.body.versions).toHaveLength(1);
    expect(whole.body.schema).toEqual(V1);
    expectProblem(
      await http.post(`/v1/schemas/${uniqueName("none")}/check`, { schema: V1 }),
      404,
      "schema_not_found",
    );
  });

  it("a change to NONE lets the breaking schema in; a type can be configured before version 1", async () => {
    const type = uniqueName("order.shipped");
    const early = await http.put(`/v1/schemas/${type}/config`, { compatibility: "FULL" });
    expect(early.status, early.text).toBe(200);
    expect(early.body).toEqual({ type, compatibility: "FULL" });
    expectProblem(await http.get(`/v1/schemas/${type}`), 404, "schema_not_found");
    expect((await http.put(`/v1/schemas/${type}`, { schema: V1 })).status).toBe(201);
    expect((await http.get(`/v1/schemas/${type}`)).body.compatibility).toBe("FULL");
    expectProblem(
      await http.put(`/v1/schemas/${type}`, { schema: BREAKING }),
      409,
      "schema_incompatible",
    );

    const none = await http.put(`/v1/schemas/${type}/config`, { compatibility: "NONE" });
    expect(none.body).toEqual({ type, compatibility: "NONE" });
    const accepted = await http.put(`/v1/schemas/${type}`, { schema: BREAKING });
    expect(accepted.status, accepted.text).toBe(201);
    expect(accepted.body).toEqual({ type, version: 2 });
    expectProblem(
      await http.put(`/v1/schemas/${type}/config`, { compatibility: "SIDEWAYS" }),
      400,
      "invalid_request",
      "/compatibility",
    );
  });

  it("answers 404 schema_not_found for unknown types and versions, 400 invalid_name for bad types", async () => {
    const type = uniqueName("order.known");
    expect((await http.put(`/v1/schemas/${type}`, { schema: V1 })).status).toBe(201);
    expectProblem(await http.get(`/v1/schemas/${uniqueName("unknown")}`), 404, "schema_not_found");
    for (const n of ["2", "0", "abc", "-1", "1.0"])
      expectProblem(await http.get(`/v1/schemas/${type}/versions/${n}`), 404, "schema_not_found");
    const bad = `${"x".repeat(201)}`;
    expectProblem(await http.put(`/v1/schemas/${bad}`, { schema: V1 }), 400, "invalid_name");
    expectProblem(await http.get("/v1/schemas/a%20b"), 400, "invalid_name", "path:type");
  });

  it("types with dots in odd places are kept apart", async () => {
    const base = uniqueName("dots");
    const types = [`.${base}`, `${base}.`, `${base}..x`, `${base}.x`, `${base}=x`];
    const schemaOf = (i: number) => ({ type: "string", maxLength: i + 1 });
    for (const [i, type] of types.slice(0, 4).entries()) {
      const answer = await http.put(`/v1/schemas/${type}`, { schema: schemaOf(i) });
      expect(answer.status, `${type}: ${answer.text}`).toBe(201);
    }
    expectProblem(await http.put(`/v1/schemas/${types[4]}`, { schema: V1 }), 400, "invalid_name");
    for (const [i, type] of types.slice(0, 4).entries())
      expect((await http.get(`/v1/schemas/${type}`)).body.schema).toEqual(schemaOf(i));
  });

  it("gives 10 concurrent registrations of one type versions 1..10, no gap or duplicate", async () => {
    const type = uniqueName("order.raced");
    expect((await http.put(`/v1/schemas/${type}/config`, { compatibility: "NONE" })).status).toBe(
      200,
    );
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        http.put(`/v1/schemas/${type}`, { schema: { type: "string", maxLength: 10 + i } }),
      ),
    );
    for (const answer of answers) expect(answer.status, answer.text).toBe(201);
    const versions = answers.map((a) => a.body.version as number).sort((a, b) => a - b);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Each answered version holds the schema that was sent for it.
    for (const [i, answer] of answers.entries()) {
      const stored = await http.get(`/v1/schemas/${type}/versions/${answer.body.version}`);
      expect(stored.body.schema).toEqual({ type: "string", maxLength: 10 + i });
    }
  });

  it("keeps versions and configs across a restart", async () => {
    const type = uniqueName("order.kept");
    expect((await http.put(`/v1/schemas/${type}`, { schema: V1 })).status).toBe(201);
    expect((await http.put(`/v1/schemas/${type}`, { schema: V2 })).status).toBe(201);
    expect((await http.put(`/v1/schemas/${type}/config`, { compatibility: "FULL" })).status).toBe(
      200,
    );
    const before = (await http.get(`/v1/schemas/${type}`)).body;
    await router.close();
    router = await start({ dataDir: router.dataDir });
    const after = await http.get(`/v1/schemas/${type}`);
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before);
    expect((await http.get(`/v1/schemas/${type}/versions/1`)).body.schema).toEqual(V1);
    const next = await http.put(`/v1/schemas/${type}`, { schema: BREAKING });
    expectProblem(next, 409, "schema_incompatible");
  });
}

describe("schema registry on SQLite", () => {
  registryContract((options) => startTestRouter(options));

  describe("through the SDK", () => {
    let router: TestRouter;
    beforeAll(async () => {
      router = await startTestRouter();
    });
    afterAll(async () => {
      await router?.dispose();
    });

    it("client.admin.schemas puts, reads, checks and configures", async () => {
      const client = createClient({ url: router.url });
      const schemas = client.admin.schemas;
      const type = uniqueName("sdk.order");
      expect(await schemas.put(type, V1)).toEqual({ type, version: 1, created: true });
      expect(await schemas.put(type, V1_REORDERED)).toEqual({ type, version: 1, created: false });
      expect(await schemas.list()).toContainEqual({ type, latest: 1, compatibility: "BACKWARD" });
      const details = await schemas.get(type);
      expect(details).toMatchObject({ type, compatibility: "BACKWARD", schema: V1 });
      expect(details.versions.map((v) => v.version)).toEqual([1]);
      expect(await schemas.version(type, 1)).toEqual({ type, version: 1, schema: V1 });
      const check = await schemas.check(type, { ...V1, required: ["id", "currency"] });
      expect(check.compatible).toBe(false);
      expect(check.errors.map((e) => e.pointer)).toContain("/required/1");
      expect(await schemas.config(type, "NONE")).toEqual({ type, compatibility: "NONE" });
      await expect(schemas.version(type, 9)).rejects.toMatchObject({ code: "schema_not_found" });
      await expect(schemas.put(type, { type: 12 })).rejects.toMatchObject({
        code: "invalid_schema",
      });
      await client.close();
    });
  });
});

describe.runIf(natsServerAvailable())("schema registry on NATS", () => {
  let nats: NatsServers;
  const prefix = `SR${Date.now().toString(36)}`;
  const start: Start = async (options = {}) => {
    return startTestRouter({
      engine: "nats",
      nats: { url: nats.url, prefix },
      secretKeys: TEST_SECRET_KEY,
      ...options,
    });
  };

  beforeAll(async () => {
    nats = await startNatsServer();
  }, 60_000);
  afterAll(async () => {
    await nats?.close();
  });

  registryContract(start);

  describe("on two nodes", () => {
    let a: TestRouter;
    let b: TestRouter;
    beforeAll(async () => {
      [a, b] = await Promise.all([start(), start()]);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([a?.dispose(), b?.dispose()]);
    });

    it("a version registered on A is served by B within 1 s", async () => {
      const type = uniqueName("order.roaming");
      const put = await api(a.url).put(`/v1/schemas/${type}`, { schema: V1 });
      expect(put.status).toBe(201);
      const registeredAt = Date.now();
      await eventually(
        async () =>
          expect((await api(b.url).get(`/v1/schemas/${type}/versions/1`)).status).toBe(200),
        { timeoutMs: 1_000 },
      );
      expect(Date.now() - registeredAt).toBeLessThan(1_000);
    });

    it("registrations racing on both nodes get versions 1..10 exactly once", async () => {
      const type = uniqueName("order.split");
      expect(
        (await api(a.url).put(`/v1/schemas/${type}/config`, { compatibility: "NONE" })).status,
      ).toBe(200);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          api((i % 2 === 0 ? a : b).url).put(`/v1/schemas/${type}`, {
            schema: { type: "string", minLength: i },
          }),
        ),
      );
      for (const answer of answers) expect(answer.status, answer.text).toBe(201);
      expect(answers.map((x) => x.body.version as number).sort((x, y) => x - y)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
      ]);
    });
  });
});

describe("schema registry with auth", () => {
  const ADMIN = generateKey();
  let router: TestRouter;
  const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    router = await startTestRouter({ auth: true, adminKey: ADMIN.key });
  }, 60_000);
  afterAll(async () => {
    await router?.dispose();
  });

  async function key(scopes: string[]): Promise<{ id: string; key: string }> {
    const created = await api(router.url).post(
      "/v1/keys",
      { name: uniqueName("k"), scopes },
      as(ADMIN.key),
    );
    expect(created.status, created.text).toBe(201);
    return created.body;
  }

  it("writes need schemas:{type}, reads any key; the audit trail names the key", async () => {
    const http = api(router.url);
    const writer = await key(["schemas:orders.*"]);
    const reader = await key(["read:nothing"]);
    const type = `orders.${uniqueName("audited")}`;
    const put = await http.put(`/v1/schemas/${type}`, { schema: V1 }, as(writer.key));
    expect(put.status, put.text).toBe(201);
    const other = await http.put(
      `/v1/schemas/${uniqueName("else")}`,
      { schema: V1 },
      as(writer.key),
    );
    expectProblem(other, 403, "forbidden");
    expectProblem(
      await http.put(`/v1/schemas/${type}`, { schema: V2 }, as(reader.key)),
      403,
      "forbidden",
    );
    expect((await http.get(`/v1/schemas/${type}`, as(reader.key))).status).toBe(200);
    expect((await http.get("/v1/schemas", as(reader.key))).status).toBe(200);
    const config = await http.put(
      `/v1/schemas/${type}/config`,
      { compatibility: "NONE" },
      as(writer.key),
    );
    expect(config.status).toBe(200);

    const audit = await http.get(
      "/v1/topics/switchyard.audit/events?from=1&limit=1000",
      as(ADMIN.key),
    );
    const mine = (audit.body.events as { type: string; subject: string; data: unknown }[]).filter(
      (e) => e.subject === type,
    );
    const actor = { id: writer.id, name: expect.any(String) };
    expect(mine.map((e) => [e.type, e.data])).toEqual([
      ["switchyard.schema.registered", { type, version: 1, actor }],
      ["switchyard.schema.configured", { type, compatibility: "NONE", actor }],
    ]);
  });
});
