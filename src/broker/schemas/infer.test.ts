import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isDateTime } from "./date-time.js";
import {
  ENUM_RULE,
  inferSchema,
  MAX_PROPERTIES,
  MAX_SCHEMA_DEPTH,
  SCHEMA_DIALECT,
} from "./infer.js";
import type { JsonSchema } from "./types.js";

// Strict, so a proposal a strict registry would refuse fails here; union types are JSON Schema.
// `ownProperties`: without it Ajv reads an absent optional property such as `toString` off
// Object.prototype (a function) and fails the sample.
const ajv = new Ajv2020({
  strict: true,
  allowUnionTypes: true,
  allErrors: true,
  ownProperties: true,
});
addFormats.default(ajv);

function validator(schema: JsonSchema) {
  return ajv.compile(schema as object);
}

function without$schema(schema: JsonSchema): unknown {
  if (typeof schema === "boolean") return schema;
  const { $schema, ...rest } = schema;
  expect($schema).toBe(SCHEMA_DIALECT);
  return rest;
}

/** The nesting depth of a JSON document, counting objects and arrays, the root being 1. */
function depthOf(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  const children = Object.values(value as Record<string, unknown>);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe("schema inference", () => {
  it("requires the fields every sample has and closes every object", () => {
    const schema = inferSchema([
      { id: "a1", total: 10, lines: [{ sku: "x", qty: 1 }], note: "rush" },
      {
        id: "a2",
        total: 12.5,
        lines: [
          { sku: "y", qty: 2, gift: true },
          { sku: "z", qty: 1 },
        ],
      },
    ]);
    expect(without$schema(schema)).toEqual({
      type: "object",
      properties: {
        id: { type: "string" },
        total: { type: "number" },
        lines: {
          type: "array",
          items: {
            type: "object",
            properties: {
              sku: { type: "string" },
              qty: { type: "integer" },
              gift: { type: "boolean" },
            },
            required: ["sku", "qty"],
            additionalProperties: false,
          },
        },
        note: { type: "string" },
      },
      required: ["id", "total", "lines"],
      additionalProperties: false,
    });
  });

  it("widens types across samples: integer and number, mixed kinds, null", () => {
    const schema = inferSchema([
      { n: 1, v: "x", maybe: null, deep: { a: 1 } },
      { n: 2.5, v: 3, maybe: "set", deep: null },
    ]) as Record<string, Record<string, unknown>>;
    expect(schema.properties).toEqual({
      n: { type: "number" },
      v: { type: ["string", "integer"] },
      maybe: { type: ["string", "null"] },
      deep: {
        type: ["object", "null"],
        properties: { a: { type: "integer" } },
        required: ["a"],
        additionalProperties: false,
      },
    });
  });

  it("infers any root, not only objects", () => {
    expect(without$schema(inferSchema(["a", "b"]))).toEqual({ type: "string" });
    expect(without$schema(inferSchema([[1, 2], []]))).toEqual({
      type: "array",
      items: { type: "integer" },
    });
    expect(without$schema(inferSchema([{}, {}]))).toEqual({
      type: "object",
      additionalProperties: false,
    });
    // Only empty arrays seen: nothing to constrain their items with.
    expect(without$schema(inferSchema([{ tags: [] }]))).toMatchObject({
      properties: { tags: { type: "array", items: {} } },
    });
    expect(inferSchema([])).toBe(false);
  });

  it("proposes an enum only for a small closed set of strings", () => {
    const statuses = ["new", "paid", "shipped"];
    const many = Array.from({ length: ENUM_RULE.minSamples }, (_, i) => ({
      status: statuses[i % 3],
      id: `order-${i}`,
    }));
    const props = (inferSchema(many) as { properties: Record<string, unknown> }).properties;
    expect(props.status).toEqual({ type: "string", enum: ["new", "paid", "shipped"] });
    expect(props.id).toEqual({ type: "string" });
    // Too few samples to believe the set is closed.
    const few = many.slice(0, ENUM_RULE.minSamples - 1);
    expect((inferSchema(few) as { properties: Record<string, unknown> }).properties.status).toEqual(
      { type: "string" },
    );
    // One value seen once: an open set.
    const once = [...many, { status: "returned", id: "x" }];
    expect(
      (inferSchema(once) as { properties: Record<string, unknown> }).properties.status,
    ).toEqual({ type: "string" });
    // More distinct values than an enum holds.
    const wide = Array.from({ length: 40 }, (_, i) => ({ s: `v${i % (ENUM_RULE.maxValues + 1)}` }));
    expect((inferSchema(wide) as { properties: Record<string, unknown> }).properties.s).toEqual({
      type: "string",
    });
  });

  it("keeps null in an enum and drops the enum beside other kinds", () => {
    // 28 samples: 7 nulls and 21 strings, enough strings for an enum.
    const withNull = Array.from({ length: 28 }, (_, i) => ({
      s: i % 4 === 0 ? null : `v${i % 2}`,
    }));
    expect((inferSchema(withNull) as { properties: Record<string, unknown> }).properties.s).toEqual(
      { type: ["string", "null"], enum: ["v0", "v1", null] },
    );
    const withNumber = Array.from({ length: 24 }, (_, i) => ({ s: i % 4 === 0 ? 7 : `v${i % 2}` }));
    expect(
      (inferSchema(withNumber) as { properties: Record<string, unknown> }).properties.s,
    ).toEqual({ type: ["string", "integer"] });
  });

  it("detects date-time only when every string there is one", () => {
    const at = (time: unknown) => ({ at: time });
    const all = inferSchema([at("2026-01-31T10:00:00Z"), at("2026-02-01T10:00:00.5+02:00")]);
    expect((all as { properties: Record<string, unknown> }).properties.at).toEqual({
      type: "string",
      format: "date-time",
    });
    const some = inferSchema([at("2026-01-31T10:00:00Z"), at("yesterday")]);
    expect((some as { properties: Record<string, unknown> }).properties.at).toEqual({
      type: "string",
    });
    const nullable = inferSchema([at("2026-01-31T10:00:00Z"), at(null)]);
    expect((nullable as { properties: Record<string, unknown> }).properties.at).toEqual({
      type: ["string", "null"],
      format: "date-time",
    });
  });

  it("recognises date-times every validator accepts, and nothing else", () => {
    expect(isDateTime("2024-02-29T23:59:59.123456z")).toBe(true);
    expect(isDateTime("2024-12-31T00:00:00-23:59")).toBe(true);
    for (const not of [
      "2023-02-29T10:00:00Z", // no such day
      "2026-13-01T10:00:00Z",
      "2026-01-01T24:00:00Z",
      "2016-12-31T23:59:60Z", // a leap second: validators differ
      "2026-01-01 10:00:00Z",
      "2026-01-01T10:00Z",
      "2026-01-01T10:00:00",
      "2026-01-01T10:00:00+24:00",
      "２０２６-01-01T10:00:00Z",
    ])
      expect(isDateTime(not), not).toBe(false);
  });

  it("reaches a property named __proto__ through a pattern (Ajv ignores it in properties)", () => {
    const samples = [JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}')];
    const schema = inferSchema(samples) as Record<string, Record<string, unknown>>;
    expect(Object.keys(schema.properties ?? {})).toEqual(["constructor"]);
    expect(Object.keys(schema.patternProperties ?? {})).toEqual(["^__proto__$"]);
    expect(schema.required).toEqual(["__proto__", "constructor"]);
    const validate = validator(schema);
    expect(validate(samples[0])).toBe(true);
    expect(validate(JSON.parse('{"__proto__": {"x": "s"}, "constructor": 2}'))).toBe(false);
    expect(validate({ constructor: 2, other: 1 })).toBe(false);
  });

  it("treats an object with more property names than a record has as a map", () => {
    const stock = (from: number) =>
      Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [
          `sku-${from + i}`,
          i % 2 === 0 ? { qty: i, note: `n${from + i}` } : { qty: i + 0.5 },
        ]),
      );
    const samples = [0, 100, 200].map((from) => ({ warehouse: "w1", stock: stock(from) }));
    const schema = inferSchema(samples) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(["warehouse", "stock"]);
    expect(schema.properties.stock).toEqual({
      type: "object",
      additionalProperties: {
        type: "object",
        properties: { qty: { type: "number" }, note: { type: "string" } },
        required: ["qty"],
        additionalProperties: false,
      },
    });
    const validate = validator(schema);
    for (const sample of samples) expect(validate(sample)).toBe(true);
    expect(validate({ warehouse: "w2", stock: { "sku-new": { qty: 1 } } })).toBe(true);
    expect(validate({ warehouse: "w2", stock: { "sku-new": { qty: "1" } } })).toBe(false);
    expect(validate({ warehouse: "w2", stock: {}, extra: 1 })).toBe(false);
    expect(JSON.stringify(schema).length).toBeLessThan(1_000);
    // At the limit it is still a record.
    const record = Object.fromEntries(
      Array.from({ length: MAX_PROPERTIES }, (_, i) => [`k${i}`, i]),
    );
    const kept = inferSchema([record]) as { properties: Record<string, unknown> };
    expect(Object.keys(kept.properties)).toHaveLength(MAX_PROPERTIES);
  });

  it("fits the registry's depth limit, however deep the data", () => {
    let deep: unknown = { leaf: 1 };
    for (let i = 0; i < 5_000; i++) deep = i % 2 === 0 ? { a: deep } : [deep];
    const schema = inferSchema([deep]);
    expect(depthOf(schema)).toBeLessThanOrEqual(MAX_SCHEMA_DEPTH);
    expect(depthOf(schema)).toBeGreaterThanOrEqual(MAX_SCHEMA_DEPTH - 1);
    expect(JSON.stringify(schema)).toContain("not inferred: nested deeper");
    expect(validator(schema)(deep)).toBe(true);
    // Shallow data is inferred whole.
    const shallow = inferSchema([{ a: { b: { c: { d: [[{ e: "x" }]] } } } }]);
    expect(JSON.stringify(shallow)).not.toContain("$comment");
  });
});

// Objects over a few shared keys, so that `required`, merging and widening all get exercised.
const key = fc.constantFrom("id", "total", "status", "lines", "at", "meta");
const leaf = fc.oneof(
  fc.constantFrom("new", "paid", "2026-01-31T10:00:00Z", null, true, 0, 1.5),
  fc.jsonValue({ maxDepth: 1 }),
);
const record: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    leaf,
    tie("object"),
    fc.array(tie("value"), { maxLength: 3 }),
  ),
  object: fc.dictionary(key, tie("value"), { maxKeys: 4 }),
})).object;
const samples = fc.oneof(
  fc.array(record, { minLength: 1, maxLength: 40 }),
  fc.array(fc.jsonValue(), { minLength: 1, maxLength: 30 }),
);

describe("schema inference properties", () => {
  it("every sample validates under the proposal", () => {
    fc.assert(
      fc.property(samples, (list) => {
        const validate = validator(inferSchema(list));
        for (const sample of list)
          expect(validate(sample), JSON.stringify(validate.errors)).toBe(true);
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it("every sample validates when objects turn into maps, nested or not", () => {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 1 }),
      fc.dictionary(fc.string({ minLength: 4, maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), {
        maxKeys: 8,
      }),
      fc.dictionary(key, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
    );
    // `m` holds more names than a record may (a map), `r` a few (a record) holding maps' values.
    const map = fc.dictionary(fc.string({ minLength: 4, maxLength: 8 }), value, {
      minKeys: 40,
      maxKeys: 60,
    });
    const sample = fc.record({ m: map, r: fc.dictionary(key, value, { maxKeys: 4 }) });
    fc.assert(
      fc.property(fc.array(sample, { minLength: 6, maxLength: 10 }), (list) => {
        const schema = inferSchema(list) as { properties: { m: Record<string, unknown> } };
        expect(schema.properties.m.additionalProperties).toBeTypeOf("object");
        const validate = validator(schema);
        for (const item of list) expect(validate(item), JSON.stringify(validate.errors)).toBe(true);
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it("the proposal is closed: a property never seen at the root is refused", () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), (list) => {
        const validate = validator(inferSchema(list));
        const first = list[0] as Record<string, unknown>;
        expect(validate({ ...first, "never-seen": 1 })).toBe(false);
      }),
    );
  });

  it("a required property is one every sample has", () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), (list) => {
        const schema = inferSchema(list) as { required?: string[] };
        const objects = list as Record<string, unknown>[];
        const everywhere = [...new Set(objects.flatMap((o) => Object.keys(o)))].filter((k) =>
          objects.every((o) => Object.hasOwn(o, k)),
        );
        expect(new Set(schema.required ?? [])).toEqual(new Set(everywhere));
      }),
    );
  });
});
