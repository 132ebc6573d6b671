import { describe, expect, it } from "vitest";
import type { TopicConfig, TopicSchemas } from "../../core/config.js";
import { isSwitchyardError } from "../../core/errors.js";
import type { CloudEvent } from "../../core/event.js";
import { SchemaEnforcement, type ViolationReason } from "./enforcement.js";
import type { CompiledSchema, JsonSchema, SchemaLookup } from "./types.js";
import { SchemaValidators } from "./validators.js";

const REGISTRY = "https://events.example.com";
const ORDER_V1: JsonSchema = {
  type: "object",
  required: ["total"],
  properties: { total: { type: "number" } },
};
const ORDER_V2: JsonSchema = {
  type: "object",
  required: ["total", "currency"],
  properties: { total: { type: "number" }, currency: { type: "string" } },
};

/** A lookup over a fixed map of compiled schemas: what a registry's view answers from memory. */
function lookupOf(schemas: Record<string, readonly JsonSchema[]>): SchemaLookup {
  const validators = new SchemaValidators();
  const compiled = new Map<string, CompiledSchema[]>();
  for (const [type, versions] of Object.entries(schemas))
    compiled.set(
      type,
      versions.map((schema, i) => validators.compile(type, i + 1, schema)),
    );
  return {
    latest: (type) => compiled.get(type)?.at(-1),
    version: (type, n) => compiled.get(type)?.[n - 1],
  };
}

function setup(schemas: TopicSchemas) {
  const warned: [string, ViolationReason][] = [];
  const enforcement = new SchemaEnforcement(
    lookupOf({ "order.placed": [ORDER_V1, ORDER_V2] }),
    (t, r) => warned.push([t, r]),
  );
  enforcement.configure({ publicUrl: `${REGISTRY}/`, wildcardBind: false });
  const topic: TopicConfig = {
    name: "orders",
    retention: {},
    dedupeWindowMs: 0,
    maxEventBytes: 1 << 20,
    schemas,
  };
  return { enforcement, topic, warned };
}

const ENFORCE: TopicSchemas = { mode: "enforce", allowUnregisteredTypes: true };
const WARN: TopicSchemas = { mode: "warn", allowUnregisteredTypes: true };

function event(data: unknown, extra: Record<string, unknown> = {}): CloudEvent {
  return { specversion: "1.0", id: "1", source: "/shop", type: "order.placed", data, ...extra };
}

function refusal(run: () => unknown): { code: string; errors: readonly { pointer: string }[] } {
  try {
    run();
  } catch (error) {
    if (isSwitchyardError(error)) return { code: error.code, errors: error.errors };
    throw error;
  }
  throw new Error("not refused");
}

const v = (n: number) => `${REGISTRY}/v1/schemas/order.placed/versions/${n}`;

describe("SchemaEnforcement.validate", () => {
  it("stamps valid events with the latest version's dataschema, without touching the input", () => {
    const { enforcement, topic } = setup(ENFORCE);
    const input = [event({ total: 3, currency: "EUR" })];
    const [stored] = enforcement.validate(topic, input, false);
    expect(stored?.dataschema).toBe(v(2));
    expect(input[0]?.dataschema).toBeUndefined();
  });

  it("rejects the whole request under enforce, with pointers per event", () => {
    const { enforcement, topic } = setup(ENFORCE);
    const one = refusal(() =>
      enforcement.validate(topic, [event({ total: "3", currency: "EUR" })], false),
    );
    expect(one).toMatchObject({ code: "schema_violation", errors: [{ pointer: "/data/total" }] });
    const batch = refusal(() =>
      enforcement.validate(
        topic,
        [
          event({ total: 1, currency: "EUR" }),
          event({ total: 2 }),
          event({ total: "x", currency: "EUR" }),
        ],
        true,
      ),
    );
    expect(batch.errors.map((e) => e.pointer)).toEqual(["/1/data/currency", "/2/data/total"]);
  });

  it("validates against the version a dataschema names, and refuses one of another registry or type", () => {
    const { enforcement, topic } = setup(ENFORCE);
    // Valid under version 1, not under version 2 (the latest).
    const [stored] = enforcement.validate(
      topic,
      [event({ total: 1 }, { dataschema: v(1) })],
      false,
    );
    expect(stored?.dataschema).toBe(v(1));
    for (const dataschema of [
      "https://other.example.com/v1/schemas/order.placed/versions/1",
      `${REGISTRY}/v1/schemas/order.shipped/versions/1`,
      `${REGISTRY}/v1/schemas/order.placed/versions/9`,
      "https://json-schema.example/order.json",
    ]) {
      const refused = refusal(() =>
        enforcement.validate(topic, [event({ total: 1 }, { dataschema })], true),
      );
      expect(refused, dataschema).toMatchObject({
        code: "schema_violation",
        errors: [{ pointer: "/0/dataschema" }],
      });
    }
  });

  it("refuses data that is not JSON for a registered type at /data", () => {
    const { enforcement, topic } = setup(ENFORCE);
    const cases: CloudEvent[] = [
      { specversion: "1.0", id: "1", source: "/s", type: "order.placed", data_base64: "AAEC" },
      event("total=3", { datacontenttype: "text/plain" }),
      { specversion: "1.0", id: "1", source: "/s", type: "order.placed" },
    ];
    for (const e of cases)
      expect(refusal(() => enforcement.validate(topic, [e], false))).toMatchObject({
        code: "schema_violation",
        errors: [{ pointer: "/data" }],
      });
    const json = event(
      { total: 1, currency: "EUR" },
      { datacontenttype: "application/vnd.shop+json; charset=utf-8" },
    );
    expect(enforcement.validate(topic, [json], false)[0]?.dataschema).toBe(v(2));
  });

  it("passes unregistered types unless allowUnregisteredTypes is false (schema_unknown_type)", () => {
    const open = setup(ENFORCE);
    const other = { ...event({ anything: true }), type: "user.created" };
    expect(open.enforcement.validate(open.topic, [other], false)).toEqual([other]);
    const closed = setup({ mode: "enforce", allowUnregisteredTypes: false });
    expect(refusal(() => closed.enforcement.validate(closed.topic, [other], true))).toMatchObject({
      code: "schema_unknown_type",
      errors: [{ pointer: "/0/type" }],
    });
    // Mixed with a data violation, the request answers schema_violation with both pointers.
    const mixed = refusal(() =>
      closed.enforcement.validate(closed.topic, [other, event({})], true),
    );
    expect(mixed).toMatchObject({ code: "schema_violation" });
    expect(mixed.errors.map((e) => e.pointer)).toEqual(["/0/type", "/1/data/total"]);
  });

  it("under warn appends every event, stamps those that pass and counts the others by reason", () => {
    const { enforcement, topic, warned } = setup({ mode: "warn", allowUnregisteredTypes: false });
    const foreign = "https://other.example.com/v1/schemas/order.placed/versions/1";
    const input = [
      event({ total: 1, currency: "EUR" }),
      event({ total: "x" }),
      event({ total: 1, currency: "EUR" }, { dataschema: foreign }),
      { ...event({}), type: "user.created" },
      event("x", { datacontenttype: "text/plain" }),
    ];
    const stored = enforcement.validate(topic, input, true);
    expect(stored.map((e) => e.dataschema)).toEqual([
      v(2),
      undefined,
      foreign,
      undefined,
      undefined,
    ]);
    expect(warned).toEqual([
      ["orders", "data"],
      ["orders", "dataschema"],
      ["orders", "unknown_type"],
      ["orders", "not_json"],
    ]);
  });

  it("uses the listen URL when no publicUrl is set, and vets enforcement on a wildcard bind", () => {
    const enforcement = new SchemaEnforcement(lookupOf({ "order.placed": [ORDER_V1] }), () => {});
    enforcement.configure({ wildcardBind: false });
    enforcement.listening("http://127.0.0.1:9999");
    const topic = setup(ENFORCE).topic;
    expect(enforcement.validate(topic, [event({ total: 1 })], false)[0]?.dataschema).toBe(
      "http://127.0.0.1:9999/v1/schemas/order.placed/versions/1",
    );
    expect(() => enforcement.vetTopic(topic)).not.toThrow();
    enforcement.configure({ wildcardBind: true });
    expect(refusal(() => enforcement.vetTopic(topic))).toMatchObject({
      code: "invalid_request",
      errors: [{ pointer: "/schemas/mode" }],
    });
    expect(() => enforcement.vetTopic({ ...topic, schemas: WARN })).not.toThrow();
    enforcement.configure({ wildcardBind: true, publicUrl: REGISTRY });
    expect(() => enforcement.vetTopic(topic)).not.toThrow();
  });
});
