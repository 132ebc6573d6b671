import { describe, expect, it } from "vitest";
import { validateBounded } from "../../../test/support/bounded-validation.js";
import { isSwitchyardError } from "../../core/errors.js";
import { patternProblem } from "./pattern-engine.js";
import { SCHEMA_MAX_BYTES, SUPPORTED_FORMATS } from "./schema-guard.js";
import type { DataViolation, JsonSchema } from "./types.js";
import { assertValidSchema, compileSchema, SchemaValidators } from "./validators.js";

function refusal(schema: unknown): {
  code: string;
  status: number;
  errors: readonly DataViolation[];
} {
  try {
    assertValidSchema(schema);
  } catch (error) {
    if (!isSwitchyardError(error)) throw error;
    return { code: error.code, status: error.status, errors: error.errors };
  }
  throw new Error("the schema was accepted");
}

function pointers(schema: unknown): string[] {
  return refusal(schema).errors.map((e) => e.pointer);
}

describe("assertValidSchema", () => {
  it("accepts valid 2020-12 schemas, booleans included", () => {
    for (const schema of [
      true,
      false,
      {},
      { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" },
      { required: ["id"], properties: { id: { type: "string", format: "uuid" } } },
      { type: ["string", "null"], pattern: "^[a-z]+\\d*$" },
      { $defs: { n: { type: "integer" } }, type: "array", items: { $ref: "#/$defs/n" } },
      {
        $id: "https://example.com/order",
        $defs: { line: { $anchor: "line", type: "object" } },
        properties: { lines: { items: { $ref: "#line" } } },
      },
      // A "$ref" or "pattern" inside data-valued keywords is data, not a keyword.
      { const: { $ref: "https://elsewhere.example/x", pattern: "(a)\\1" }, enum: [{ $ref: "x" }] },
    ]) {
      expect(() => assertValidSchema(schema)).not.toThrow();
    }
  });

  it("refuses what the meta-schema refuses, with the pointer into the schema", () => {
    const { code, status, errors } = refusal({ properties: { total: { type: "numbr" } } });
    expect({ code, status }).toEqual({ code: "invalid_schema", status: 400 });
    expect(errors[0]?.pointer).toBe("/properties/total/type");
    expect(pointers([])).toEqual([""]);
    expect(pointers(3)).toEqual([""]);
    expect(pointers({ minimum: "0" })).toEqual(["/minimum"]);
  });

  it("refuses references that leave the document", () => {
    expect(pointers({ properties: { a: { $ref: "https://evil.example/s.json" } } })).toEqual([
      "/properties/a/$ref",
    ]);
    expect(pointers({ items: { $dynamicRef: "other.json#x" } })).toEqual(["/items/$dynamicRef"]);
    expect(pointers({ $ref: "#/$defs/missing" })).toEqual([""]);
  });

  it("refuses another dialect and unknown keywords", () => {
    expect(pointers({ $schema: "http://json-schema.org/draft-07/schema#" })).toEqual(["/$schema"]);
    expect(pointers({ properties: { a: { typ: "string" } } })).toEqual(["/properties/a/typ"]);
  });

  it("asserts the supported formats and refuses others", () => {
    expect(pointers({ properties: { at: { format: "color" } } })).toEqual([
      "/properties/at/format",
    ]);
    const email = compileSchema("fmt.email", 1, { type: "string", format: "email" });
    expect(email.validate("a@example.com")).toEqual([]);
    expect(email.validate("not an email")).toEqual([
      { pointer: "", message: 'must match format "email"' },
    ]);
  });

  it("refuses a schema over 256 KiB and one nested more than 32 levels deep", () => {
    const big = { description: "x".repeat(SCHEMA_MAX_BYTES) };
    expect(pointers(big)).toEqual([""]);
    const nest = (levels: number): JsonSchema => (levels === 1 ? {} : { items: nest(levels - 1) });
    // Each `items` level is one object: 32 objects deep is fine, 33 is not.
    expect(() => assertValidSchema(nest(32))).not.toThrow();
    expect(pointers(nest(33))).toEqual([`${"/items".repeat(32)}`]);
  });

  it("refuses patterns the linear-time engine cannot run, at their pointer", () => {
    expect(pointers({ properties: { a: { pattern: "(a)\\1" } } })).toEqual([
      "/properties/a/pattern",
    ]);
    expect(pointers({ pattern: "foo(?=bar)" })).toEqual(["/pattern"]);
    expect(pointers({ patternProperties: { "^(?<!x)y/z$": true } })).toEqual([
      "/patternProperties/^(?<!x)y~1z$",
    ]);
    expect(patternProblem("^(a+)+$")).toBeUndefined();
  });
});

describe("compiled validators", () => {
  it("points at the failing value relative to data", () => {
    const v = compileSchema("order.placed", 1, {
      type: "object",
      required: ["total"],
      additionalProperties: false,
      properties: {
        total: { type: "number" },
        lines: { type: "array", items: { type: "string" } },
      },
    });
    expect(v.validate({ total: 3, lines: ["a"] })).toEqual([]);
    expect(v.validate({ total: "3" })).toEqual([{ pointer: "/total", message: "must be number" }]);
    expect(v.validate({})[0]?.pointer).toBe("/total");
    expect(v.validate({ total: 1, "a/b": 1 })[0]?.pointer).toBe("/a~1b");
    expect(v.validate({ total: 1, lines: ["a", 2] })[0]?.pointer).toBe("/lines/1");
    expect(v.validate("x")[0]?.pointer).toBe("");
  });

  it("reads only the event's own properties, never Object.prototype's", () => {
    const v = compileSchema("proto.names", 1, {
      type: "object",
      properties: { toString: { type: "string" }, constructor: { type: "number" } },
    });
    expect(v.validate({})).toEqual([]);
    expect(v.validate({ toString: 1 })[0]?.pointer).toBe("/toString");
  });

  it("compiles once per type and version, and versions and types never clash on $id", () => {
    const validators = new SchemaValidators();
    const id = "https://example.com/shared";
    const v1 = validators.compile("a", 1, { $id: id, type: "integer" });
    const v2 = validators.compile("a", 2, { $id: id, type: "string" });
    const b1 = validators.compile("b", 1, { $id: id, $anchor: "x", type: "boolean" });
    expect(validators.compile("a", 1, { $id: id, type: "integer" })).toBe(v1);
    expect([v1.validate(1), v2.validate("s"), b1.validate(true)]).toEqual([[], [], []]);
    expect(v1.validate("s")).not.toEqual([]);
    // Another registry's "a" version 1 (same process, other schema) gets its own validator.
    expect(validators.compile("a", 1, { type: "string" }).validate("s")).toEqual([]);
    validators.forget("a");
    expect(validators.compile("a", 1, { type: "null" })).not.toBe(v1);
  });

  it("runs ^(a+)+$ on 'a' x 50,000 + 'b' in linear time", { timeout: 2_000 }, async () => {
    const schema = { type: "string", pattern: "^(a+)+$" } as const;
    const data = [`${"a".repeat(50_000)}b`, "a".repeat(50_000)];
    expect(await validateBounded([{ schema, data }], 1_800)).toEqual([
      [[{ pointer: "", message: 'must match pattern "^(a+)+$"' }], []],
    ]);
  });

  it("runs every supported format on long hostile strings without stalling", {
    timeout: 5_000,
  }, async () => {
    const data = [
      `${"a".repeat(20_000)}!`,
      `${"a.".repeat(10_000)}@`,
      `${"1".repeat(20_000)}:`,
      `${"0:".repeat(10_000)}x`,
      "%".repeat(20_000),
    ];
    const cases = SUPPORTED_FORMATS.map((format) => ({ schema: { type: "string", format }, data }));
    const verdicts = await validateBounded(cases, 4_500);
    // The deadline is the assertion; the answers only prove every string was checked.
    expect(verdicts.map((v) => v.length)).toEqual(cases.map(() => data.length));
  });
});
