/**
 * Schema enforcement on publish over real HTTP, on SQLite and on NATS (API.md "Schemas",
 * topic validation): schemas registered through PUT /v1/schemas, a topic's `schemas` mode
 * set through PUT /v1/topics. Under `enforce` a failing event rejects the whole request
 * (422, pointers `/data/total`, `/1/data/total`, `body/total`), under `warn` it is appended
 * and counted, under `off` nothing is checked; validated events carry this router's
 * `dataschema`. Also: the start refusal on a wildcard bind, `publicUrl`, and `switchyard
 * import` dropping another router's `dataschema` (real CLI, from dist/).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/broker/keys.js";
import { type RouterOptions, startRouter } from "../../src/index.js";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import {
  type Api,
  api,
  event,
  expectProblem,
  startTestRouter,
  type TestRouter,
  uniqueName,
} from "../support/router.js";
import { TEST_SECRET_KEY } from "../support/router-process.js";

const ORDER_V1 = {
  type: "object",
  properties: { total: { type: "number" }, currency: { type: "string" } },
  required: ["total"],
  additionalProperties: false,
};
/** v2 adds an optional property (BACKWARD in a closed model). */
const ORDER_V2 = {
  type: "object",
  properties: {
    total: { type: "number" },
    currency: { type: "string" },
    note: { type: "string" },
  },
  required: ["total"],
  additionalProperties: false,
};

type Start = (options?: Partial<RouterOptions>) => Promise<TestRouter>;

async function registered(http: Api, schemas: readonly object[]): Promise<string> {
  const type = uniqueName("order.placed");
  // Compatibility is the registry's business, not this file's.
  const config = await http.put(`/v1/schemas/${type}/config`, { compatibility: "NONE" });
  expect(config.status, config.text).toBe(200);
  for (const schema of schemas) {
    const put = await http.put(`/v1/schemas/${type}`, { schema });
    expect(put.status, put.text).toBe(201);
  }
  return type;
}

async function topicWith(http: Api, schemas: object): Promise<string> {
  const topic = uniqueName("orders");
  const put = await http.put(`/v1/topics/${topic}`, { schemas });
  expect(put.status, put.text).toBe(201);
  return topic;
}

async function stored(http: Api, topic: string): Promise<Record<string, unknown>[]> {
  return (await http.get(`/v1/topics/${topic}/events?from=1&limit=1000`)).body.events;
}

function binary(http: Api, topic: string, type: string, body: string, contentType: string) {
  return http.call("POST", `/v1/topics/${topic}/events`, {
    raw: body,
    headers: {
      "content-type": contentType,
      "ce-specversion": "1.0",
      "ce-id": uniqueName("ev"),
      "ce-source": "/shop",
      "ce-type": type,
    },
  });
}

function enforcementContract(start: Start): void {
  let router: TestRouter;
  let http: Api;
  const schemaUrl = (type: string, n: number) => `${router.url}/v1/schemas/${type}/versions/${n}`;

  beforeAll(async () => {
    router = await start();
    http = api(() => router.url);
  }, 60_000);
  afterAll(async () => {
    await router?.dispose();
  });

  it("shows a topic's schemas (default off) and keeps them on an update that leaves them out", async () => {
    const plain = uniqueName("plain");
    expect((await http.put(`/v1/topics/${plain}`, {})).body.schemas).toEqual({
      mode: "off",
      allowUnregisteredTypes: true,
    });
    const topic = await topicWith(http, { mode: "enforce" });
    const shown = await http.get(`/v1/topics/${topic}`);
    expect(shown.body.schemas).toEqual({ mode: "enforce", allowUnregisteredTypes: true });
    const updated = await http.put(`/v1/topics/${topic}`, { maxEventBytes: 4096 });
    expect(updated.body.schemas.mode).toBe("enforce");
    expect((await http.get(`/v1/topics/${topic}`)).body).toMatchObject({
      maxEventBytes: 4096,
      schemas: { mode: "enforce" },
    });
    // A GET body PUT back is accepted as is.
    expect((await http.put(`/v1/topics/${topic}`, shown.body)).status).toBe(200);
    expectProblem(
      await http.put(`/v1/topics/${topic}`, { schemas: { mode: "strict" } }),
      400,
      "invalid_request",
      "/schemas/mode",
    );
  });

  it("enforce: stores valid events with this router's dataschema", async () => {
    const type = await registered(http, [ORDER_V1]);
    const topic = await topicWith(http, { mode: "enforce" });
    const res = await http.publish(topic, event({ type, data: { total: 3 } }));
    expect(res.status, res.text).toBe(201);
    const [first] = await stored(http, topic);
    expect(first?.dataschema).toBe(schemaUrl(type, 1));
    expect(first?.data).toEqual({ total: 3 });
  });

  it("enforce: a failing event rejects the request with pointers, and nothing is appended", async () => {
    const type = await registered(http, [ORDER_V1]);
    const topic = await topicWith(http, { mode: "enforce" });
    const one = await http.publish(topic, event({ type, data: { total: "3" } }));
    expectProblem(one, 422, "schema_violation", "/data/total");
    const batch = await http.publish(topic, [
      event({ type, data: { total: 1 } }),
      event({ type, data: { total: "x" } }),
      event({ type, data: { total: 2, extra: true } }),
    ]);
    expectProblem(batch, 422, "schema_violation", "/1/data/total");
    expect(batch.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      "/1/data/total",
      "/2/data/extra",
    ]);
    expect((await http.get(`/v1/topics/${topic}`)).body.stats.events).toBe(0);
  });

  it("enforce: binary mode points into the body; non-JSON data is refused at the data", async () => {
    const type = await registered(http, [ORDER_V1]);
    const topic = await topicWith(http, { mode: "enforce" });
    const bad = await binary(http, topic, type, JSON.stringify({ total: "3" }), "application/json");
    expectProblem(bad, 422, "schema_violation", "body/total");
    expect(bad.body.detail).toMatch(/^body\/total: /);
    expectProblem(
      await binary(http, topic, type, "total=3", "text/plain"),
      422,
      "schema_violation",
      "body",
    );
    const good = await binary(http, topic, type, JSON.stringify({ total: 3 }), "application/json");
    expect(good.status, good.text).toBe(201);
    const base64 = { ...event({ type }), data: undefined, data_base64: "AAEC" };
    expectProblem(await http.publish(topic, base64), 422, "schema_violation", "/data");
    const [first] = await stored(http, topic);
    expect(first?.dataschema).toBe(schemaUrl(type, 1));
  });

  it("enforce: a dataschema naming a version validates against it; another registry's or type's is refused", async () => {
    const type = await registered(http, [ORDER_V1, ORDER_V2]);
    const topic = await topicWith(http, { mode: "enforce" });
    // `note` is valid under v2 (the latest), not under v1.
    const withNote = { total: 1, note: "gift" };
    expect((await http.publish(topic, event({ type, data: withNote }))).status).toBe(201);
    expectProblem(
      await http.publish(topic, event({ type, data: withNote, dataschema: schemaUrl(type, 1) })),
      422,
      "schema_violation",
      "/data/note",
    );
    const v1 = await http.publish(
      topic,
      event({ type, data: { total: 2 }, dataschema: schemaUrl(type, 1) }),
    );
    expect(v1.status, v1.text).toBe(201);
    for (const dataschema of [
      `https://registry.example.com/v1/schemas/${type}/versions/1`,
      `${router.url}/v1/schemas/other.type/versions/1`,
      schemaUrl(type, 7),
    ])
      expectProblem(
        await http.publish(topic, [event({ type, data: { total: 1 }, dataschema })]),
        422,
        "schema_violation",
        "/0/dataschema",
      );
    expect((await stored(http, topic)).map((e) => e.dataschema)).toEqual([
      schemaUrl(type, 2),
      schemaUrl(type, 1),
    ]);
  });

  it("enforce: an unregistered type passes, unless allowUnregisteredTypes is false", async () => {
    const open = await topicWith(http, { mode: "enforce" });
    const unknown = uniqueName("user.created");
    const passed = await http.publish(open, event({ type: unknown }));
    expect(passed.status, passed.text).toBe(201);
    expect((await stored(http, open))[0]?.dataschema).toBeUndefined();
    const closed = await topicWith(http, { mode: "enforce", allowUnregisteredTypes: false });
    expectProblem(
      await http.publish(closed, [event({ type: unknown })]),
      422,
      "schema_unknown_type",
      "/0/type",
    );
    expectProblem(
      await binary(http, closed, unknown, "{}", "application/json"),
      422,
      "schema_unknown_type",
      "header:ce-type",
    );
  });

  it("warn: appends every event, stamps the valid ones and counts the others in /metrics", async () => {
    const type = await registered(http, [ORDER_V1]);
    const topic = await topicWith(http, { mode: "warn", allowUnregisteredTypes: false });
    const foreign = `https://registry.example.com/v1/schemas/${type}/versions/1`;
    const res = await http.publish(topic, [
      event({ type, data: { total: 1 } }),
      event({ type, data: { total: "x" } }),
      event({ type, data: { total: 1 }, dataschema: foreign }),
      event({ type: uniqueName("user.created") }),
    ]);
    expect(res.status, res.text).toBe(201);
    expect((await stored(http, topic)).map((e) => e.dataschema)).toEqual([
      schemaUrl(type, 1),
      undefined,
      foreign,
      undefined,
    ]);
    const metrics = (await http.get("/metrics")).text;
    for (const reason of ["data", "dataschema", "unknown_type"])
      expect(metrics).toContain(
        `switchyard_schema_violations_total{topic="${topic}",reason="${reason}"} 1\n`,
      );
  });

  it("off: nothing is checked and a producer's dataschema is kept as sent", async () => {
    const type = await registered(http, [ORDER_V1]);
    const topic = await topicWith(http, { mode: "off" });
    const foreign = `https://registry.example.com/v1/schemas/${type}/versions/1`;
    const res = await http.publish(topic, [
      event({ type, data: { total: "not a number" }, dataschema: foreign }),
      event({ type, data: { total: 1 } }),
    ]);
    expect(res.status, res.text).toBe(201);
    expect((await stored(http, topic)).map((e) => e.dataschema)).toEqual([foreign, undefined]);
  });
}

describe("schema enforcement on SQLite", () => {
  enforcementContract((options) => startTestRouter(options));
});

describe.runIf(natsServerAvailable())("schema enforcement on NATS", () => {
  let nats: NatsServers;
  const prefix = `SE${Date.now().toString(36)}`;
  beforeAll(async () => {
    nats = await startNatsServer();
  }, 60_000);
  afterAll(async () => {
    await nats?.close();
  });
  enforcementContract((options = {}) =>
    startTestRouter({
      engine: "nats",
      nats: { url: nats.url, prefix },
      secretKeys: TEST_SECRET_KEY,
      ...options,
    }),
  );
});

describe("publicUrl", () => {
  it("names the registry in stored dataschemas; the listen URL is then another registry", async () => {
    const router = await startTestRouter({ publicUrl: "https://events.example.com/" });
    try {
      const http = api(router.url);
      const type = await registered(http, [ORDER_V1]);
      const topic = await topicWith(http, { mode: "enforce" });
      expect((await http.publish(topic, event({ type, data: { total: 1 } }))).status).toBe(201);
      expect((await stored(http, topic))[0]?.dataschema).toBe(
        `https://events.example.com/v1/schemas/${type}/versions/1`,
      );
      const listenUrl = `${router.url}/v1/schemas/${type}/versions/1`;
      expectProblem(
        await http.publish(topic, event({ type, data: { total: 1 }, dataschema: listenUrl })),
        422,
        "schema_violation",
        "/dataschema",
      );
    } finally {
      await router.dispose();
    }
  });

  it("a router that would bind a wildcard address refuses to start while a topic enforces without it", async () => {
    const first = await startTestRouter();
    const topic = await topicWith(api(first.url), { mode: "enforce" });
    await first.close();
    const adminKey = generateKey().key;
    try {
      // Refused before anything binds: the test never listens on 0.0.0.0.
      await expect(
        startRouter({
          dataDir: first.dataDir,
          host: "0.0.0.0",
          port: 0,
          auth: true,
          adminKey,
          logLevel: "silent",
        }),
      ).rejects.toMatchObject({ name: "StartRefused", message: expect.stringContaining(topic) });
      await expect(
        startRouter({ dataDir: first.dataDir, publicUrl: "ftp://x", port: 0, logLevel: "silent" }),
      ).rejects.toMatchObject({ name: "StartRefused" });
    } finally {
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });
});

describe("switchyard import", () => {
  const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard.js");
  const run = promisify(execFile);
  let dir: string;
  let from: TestRouter;
  let to: TestRouter;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sy-schema-import-"));
    [from, to] = await Promise.all([startTestRouter(), startTestRouter()]);
  });
  afterAll(async () => {
    await Promise.all([from?.dispose(), to?.dispose()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("drops a dataschema naming another router's registry; the target stamps its own", async () => {
    const source = api(from.url);
    const target = api(to.url);
    const type = await registered(source, [ORDER_V1]);
    expect((await target.put(`/v1/schemas/${type}`, { schema: ORDER_V1 })).status).toBe(201);
    const topic = await topicWith(source, { mode: "enforce" });
    const elsewhere = "https://json.example.com/order.json";
    expect((await source.publish(topic, event({ type, data: { total: 1 } }))).status).toBe(201);
    const off = await topicWith(source, { mode: "off" });
    expect((await source.publish(off, event({ type, dataschema: elsewhere }))).status).toBe(201);
    for (const [name, mode] of [
      [topic, "enforce"],
      [off, "off"],
    ] as const) {
      const file = join(dir, `${name}.jsonl`);
      await run(process.execPath, [BIN, "export", name, "--out", file, "--url", from.url]);
      expect((await target.put(`/v1/topics/${name}`, { schemas: { mode } })).status).toBe(201);
      await run(process.execPath, [BIN, "import", name, "--file", file, "--url", to.url]);
    }
    // Kept, it would have been refused at /dataschema by the enforcing target.
    expect((await stored(target, topic))[0]?.dataschema).toBe(
      `${to.url}/v1/schemas/${type}/versions/1`,
    );
    // Not a registry URL: not the import's to judge, kept.
    expect((await stored(target, off))[0]?.dataschema).toBe(elsewhere);
  });
});
