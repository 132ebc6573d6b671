/**
 * The real `switchyard serve` (built `dist/`) with auth on: the AsyncAPI document of a router
 * with topics, registered schemas, and push and pull subscriptions passes `@asyncapi/parser`
 * with no error, and shows each key only what it may see; `switchyard asyncapi` writes it.
 * Schema discovery proposes a closed schema every published sample validates under, and
 * registers nothing.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Parser } from "@asyncapi/parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/broker/keys.js";
import { eventually } from "../support/eventually.js";
import { type HttpSink, startSink } from "../support/http-sink.js";
import { api, event, expectProblem } from "../support/router.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

const bin = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard.js");
const ADMIN = generateKey().key;
const PUSH_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const ORDER_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  $defs: { money: { type: "number", minimum: 0 } },
  properties: { id: { type: "string" }, total: { $ref: "#/$defs/money" } },
  required: ["id", "total"],
  additionalProperties: false,
};
const PAYMENT_SCHEMA = {
  type: "object",
  properties: { order: { type: "string" }, amount: { type: "number" } },
  required: ["order"],
};

let router: RouterProcess;
let sink: HttpSink;
let dir: string;

/** A JSON client that sends `key` (or no key). */
function as(key: string | undefined) {
  const http = api(() => router.url);
  const headers: Record<string, string> =
    key === undefined ? {} : { authorization: `Bearer ${key}` };
  return {
    get: (path: string) => http.call("GET", path, { headers }),
    put: (path: string, body: unknown) => http.call("PUT", path, { headers, body }),
    post: (path: string, body: unknown) => http.call("POST", path, { headers, body }),
    publish: (topic: string, events: unknown[]) =>
      http.call("POST", `/v1/topics/${topic}/events`, {
        raw: JSON.stringify(events),
        headers: { ...headers, "content-type": "application/cloudevents-batch+json" },
      }),
  };
}
const admin = () => as(ADMIN);

async function createKey(scopes: string[]): Promise<string> {
  const created = await admin().post("/v1/keys", { name: "asyncapi-test", scopes });
  expect(created.status, created.text).toBe(201);
  const key = created.body.key as string;
  await eventually(async () => expect((await as(key).get("/v1/keys/self")).status).toBe(200));
  return key;
}

function cli(args: readonly string[], key: string) {
  const run = spawnSync(process.execPath, [bin, ...args, "--url", router.url], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", SWITCHYARD_API_KEY: key },
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

async function parse(doc: unknown) {
  // The parser takes the document as JSON text like any other input.
  const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
  const errors = diagnostics.filter((d) => d.severity === 0);
  expect(errors.map((d) => `${d.path.join("/")}: ${d.message}`)).toEqual([]);
  expect(document).toBeDefined();
  return document;
}

type Doc = {
  servers: Record<string, Record<string, unknown>>;
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, Record<string, unknown>>;
  components: {
    messages: Record<string, Record<string, unknown>>;
    securitySchemes?: Record<string, Record<string, unknown>>;
  };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sy-asyncapi-"));
  sink = await startSink();
  router = await startRouterProcess({
    dataDir: join(dir, "data"),
    auth: true,
    env: { SWITCHYARD_ADMIN_KEY: ADMIN },
    args: ["--allow-private-endpoints"],
  });
  const a = admin();
  for (const topic of ["aa.orders", "aa.payments"])
    expect((await a.put(`/v1/topics/${topic}`, {})).status).toBe(201);
  expect((await a.put("/v1/schemas/aa.order.placed", { schema: ORDER_SCHEMA })).status).toBe(201);
  expect((await a.put("/v1/schemas/aa.payment.made", { schema: PAYMENT_SCHEMA })).status).toBe(201);
  const billing = await a.put("/v1/subscriptions/aa-billing", { topic: "aa.orders" });
  expect(billing.status, billing.text).toBe(201);
  const hook = await a.put("/v1/subscriptions/aa-hook", {
    topic: "aa.payments",
    push: { url: `${sink.url}?token=hush`, secret: PUSH_SECRET },
  });
  expect(hook.status, hook.text).toBe(201);
  const orders = [
    event({ type: "aa.order.placed", data: { id: "o1", total: 10 } }),
    event({ type: "aa.order.noted", data: { note: "ring twice" } }),
  ];
  expect((await a.publish("aa.orders", orders)).status).toBe(201);
  const payments = [event({ type: "aa.payment.made", data: { order: "o1", amount: 10 } })];
  expect((await a.publish("aa.payments", payments)).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await router?.stop();
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("GET /v1/asyncapi.json", () => {
  it("is an AsyncAPI 3.0 document the parser accepts without an error", async () => {
    const answer = await admin().get("/v1/asyncapi.json");
    expect(answer.status).toBe(200);
    const document = await parse(answer.body);
    const doc = answer.body as Doc;
    expect(answer.body.asyncapi).toBe("3.0.0");

    // A channel per topic (dead-letter topics included), a message per type seen there.
    expect(Object.keys(doc.channels).sort()).toEqual([
      "aa.orders",
      "aa.orders.aa-billing.dlq",
      "aa.payments",
      "aa.payments.aa-hook.dlq",
      "switchyard.audit",
    ]);
    expect(doc.channels["aa.orders"]?.address).toBe("/v1/topics/aa.orders/events");
    expect(Object.keys(doc.channels["aa.orders"]?.messages ?? {})).toEqual([
      "aa.order.noted",
      "aa.order.placed",
    ]);
    expect(doc.channels["aa.orders"]?.messages["aa.order.placed"]).toEqual({
      $ref: "#/components/messages/aa.order.placed",
    });
    expect(
      document
        ?.channels()
        .get("aa.payments")
        ?.messages()
        .all()
        .map((m) => m.id()),
    ).toEqual(["aa.payment.made"]);

    // Messages: the latest schema as a 2020-12 payload, the CloudEvents attributes as headers.
    const placed = doc.components.messages["aa.order.placed"] as Record<
      string,
      Record<string, unknown>
    >;
    expect(placed.payload?.schemaFormat).toBe("application/schema+json;version=2020-12");
    expect(placed.payload?.schema).toMatchObject({
      properties: {
        total: { $ref: "#/components/messages/aa.order.placed/payload/schema/$defs/money" },
      },
      additionalProperties: false,
    });
    expect(placed.headers).toMatchObject({
      required: ["ce-specversion", "ce-id", "ce-source", "ce-type"],
      properties: { "ce-type": { const: "aa.order.placed" } },
    });
    expect(doc.components.messages["aa.order.noted"]?.payload).toBeUndefined();
    const parsedPlaced = document
      ?.messages()
      .all()
      .find((m) => m.id() === "aa.order.placed");
    expect(parsedPlaced?.payload()?.properties()?.total?.type()).toBe("number");

    // A send operation per topic users may publish to; a receive one per subscription.
    expect(Object.keys(doc.operations).sort()).toEqual([
      "receive.aa-billing",
      "receive.aa-hook",
      "send.aa.orders",
      "send.aa.payments",
    ]);
    expect(doc.operations["send.aa.orders"]).toMatchObject({
      action: "send",
      channel: { $ref: "#/channels/aa.orders" },
      bindings: { http: { method: "POST" } },
    });
    expect(doc.operations["receive.aa-billing"]).toMatchObject({
      action: "receive",
      channel: { $ref: "#/channels/aa.orders" },
      "x-switchyard-subscription": { delivery: "pull" },
    });
    expect(doc.operations["receive.aa-hook"]).toMatchObject({
      action: "receive",
      channel: { $ref: "#/channels/aa.payments" },
      "x-switchyard-subscription": { delivery: "push", push: { endpoint: sink.url } },
    });
    expect(document?.operations().get("receive.aa-hook")?.action()).toBe("receive");

    // The server and its security scheme; no secret anywhere.
    expect(doc.servers.router).toMatchObject({
      host: `127.0.0.1:${router.port}`,
      protocol: "http",
      security: [{ $ref: "#/components/securitySchemes/apiKey" }],
    });
    expect(doc.components.securitySchemes?.apiKey).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    expect(document?.servers().get("router")?.security()[0]?.all()[0]?.scheme().type()).toBe(
      "http",
    );
    expect(answer.text).not.toContain(PUSH_SECRET);
    expect(answer.text).not.toContain("hush");
  });

  it("shows a key only the topics and subscriptions it may see; every schema", async () => {
    const reader = await createKey(["read:aa.orders", "consume:aa-billing"]);
    const answer = await as(reader).get("/v1/asyncapi.json");
    expect(answer.status).toBe(200);
    await parse(answer.body);
    const doc = answer.body as Doc;
    expect(Object.keys(doc.channels)).toEqual(["aa.orders"]);
    expect(Object.keys(doc.operations).sort()).toEqual(["receive.aa-billing", "send.aa.orders"]);
    // Schemas describe shapes, not data: any key reads them.
    expect(Object.keys(doc.components.messages).sort()).toEqual([
      "aa.order.noted",
      "aa.order.placed",
      "aa.payment.made",
    ]);
    const publisher = await createKey(["publish:aa.payments"]);
    const published = (await as(publisher).get("/v1/asyncapi.json")).body as Doc;
    expect(Object.keys(published.channels)).toEqual(["aa.payments"]);
    expect(Object.keys(published.operations)).toEqual(["send.aa.payments"]);
    expectProblem(await as(undefined).get("/v1/asyncapi.json"), 401, "unauthenticated");
  });

  it("names the server by publicUrl when the router has one", async () => {
    const other = await startRouterProcess({
      dataDir: join(dir, "public-url"),
      auth: true,
      env: { SWITCHYARD_ADMIN_KEY: ADMIN },
      args: ["--public-url", "https://events.example.com/switchyard"],
    });
    try {
      const answer = await fetch(`${other.url}/v1/asyncapi.json`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(answer.status).toBe(200);
      const doc = (await answer.json()) as Doc;
      expect(doc.servers.router).toMatchObject({
        host: "events.example.com",
        protocol: "https",
        pathname: "/switchyard",
      });
    } finally {
      await other.stop();
    }
  });

  it("switchyard asyncapi prints it and writes it whole with --out", async () => {
    const printed = cli(["asyncapi"], ADMIN);
    expect(printed.code, printed.stderr).toBe(0);
    const fromStdout = JSON.parse(printed.stdout) as Doc;
    expect(Object.keys(fromStdout.operations)).toContain("receive.aa-hook");
    const file = join(dir, "asyncapi.json");
    const written = cli(["asyncapi", "--out", file], ADMIN);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toBe("");
    expect(written.stderr).toMatch(/^wrote AsyncAPI 3\.0\.0 to .+: 5 channels, 4 operations\n$/);
    await parse(JSON.parse(readFileSync(file, "utf8")));
    const refused = cli(["asyncapi"], "sy_0000000000000000_nope");
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toContain("unauthenticated");
  });
});

describe("POST /v1/schemas/{type}/infer", () => {
  const TYPE = "aa.shipment.sent";
  const carriers = ["dhl", "ups", "post"];
  const samples = Array.from({ length: 30 }, (_, i) => ({
    id: `s${i}`,
    carrier: carriers[i % 3],
    weight: i % 2 === 0 ? i : i + 0.5,
    sentAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
    address: { city: `c${i}`, ...(i % 5 === 0 ? { zip: null } : { zip: `${10_000 + i}` }) },
    ...(i % 4 === 0 ? { note: "fragile" } : {}),
    items: i % 7 === 0 ? [] : [{ sku: `k${i}`, qty: 1 }],
  }));

  beforeAll(async () => {
    const events = samples.map((data) => event({ type: TYPE, data }));
    events.push(event({ type: TYPE, datacontenttype: "text/plain", data: "not json" }));
    events.push(event({ type: "aa.other", data: { other: true } }));
    expect((await admin().publish("aa.orders", events)).status).toBe(201);
  });

  it("proposes a closed schema every sample validates under, and registers nothing", async () => {
    const answer = await admin().post(`/v1/schemas/${TYPE}/infer`, { topic: "aa.orders" });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ samples: 30, skipped: 1 });
    const schema = answer.body.schema as Record<string, unknown>;
    expect(schema).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      required: ["id", "carrier", "weight", "sentAt", "address", "items"],
      additionalProperties: false,
      properties: {
        carrier: { type: "string", enum: ["dhl", "post", "ups"] },
        weight: { type: "number" },
        sentAt: { type: "string", format: "date-time" },
        note: { type: "string" },
        address: {
          type: "object",
          properties: { city: { type: "string" }, zip: { type: ["string", "null"] } },
          required: ["city", "zip"],
          additionalProperties: false,
        },
        items: { type: "array", items: { additionalProperties: false } },
      },
    });
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, ownProperties: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    for (const sample of samples)
      expect(validate(sample), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...samples[0], extra: 1 })).toBe(false);

    // A proposal: nothing registered, until someone registers it.
    expectProblem(await admin().get(`/v1/schemas/${TYPE}`), 404, "schema_not_found");
    const listed = (await admin().get("/v1/schemas")).body.schemas as { type: string }[];
    expect(listed.map((s) => s.type)).not.toContain(TYPE);
    const registered = await admin().put(`/v1/schemas/${TYPE}`, { schema });
    expect(registered.status, registered.text).toBe(201);

    const limited = await admin().post(`/v1/schemas/${TYPE}/infer`, {
      topic: "aa.orders",
      limit: 3,
    });
    expect(limited.body.samples).toBe(3);
  });

  it("needs read: on the topic and schemas: on the type", async () => {
    const both = await createKey(["read:aa.*", "schemas:aa.shipment.*"]);
    expect((await as(both).post(`/v1/schemas/${TYPE}/infer`, { topic: "aa.orders" })).status).toBe(
      200,
    );
    const noRead = await createKey(["read:aa.payments", "schemas:aa.shipment.*"]);
    const refused = await as(noRead).post(`/v1/schemas/${TYPE}/infer`, { topic: "aa.orders" });
    expectProblem(refused, 403, "forbidden");
    expect(refused.body.detail).toContain("read:aa.orders");
    const noSchemas = await createKey(["read:aa.*"]);
    const alsoRefused = await as(noSchemas).post(`/v1/schemas/${TYPE}/infer`, {
      topic: "aa.orders",
    });
    expectProblem(alsoRefused, 403, "forbidden");
    expect(alsoRefused.body.detail).toContain(`schemas:${TYPE}`);

    expectProblem(
      await as(both).post(`/v1/schemas/${TYPE}/infer`, { topic: "aa.gone" }),
      404,
      "topic_not_found",
      "/topic",
    );
    expectProblem(
      await as(both).post(`/v1/schemas/${TYPE}/infer`, { topic: "aa.orders", limit: 10_001 }),
      400,
      "invalid_request",
      "/limit",
    );
    expectProblem(
      await as(both).post("/v1/schemas/aa.shipment.none/infer", { topic: "aa.orders" }),
      400,
      "invalid_request",
      "/topic",
    );
  });
});
