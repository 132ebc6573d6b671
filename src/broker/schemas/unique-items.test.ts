import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validateBounded } from "../../../test/support/bounded-validation.js";
import { firstDuplicate } from "./unique-items.js";
import { SchemaValidators } from "./validators.js";

// JSON equality as JSON Schema defines it: object members in any order.
function jsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b))
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => jsonEqual(x, b[i]))
    );
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const ka = Object.keys(a);
    const rb = b as Record<string, unknown>;
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => k in rb && jsonEqual((a as Record<string, unknown>)[k], rb[k]))
    );
  }
  return a === b;
}

function firstPair(items: readonly unknown[]): readonly [number, number] | undefined {
  for (let i = 1; i < items.length; i++)
    for (let j = 0; j < i; j++) if (jsonEqual(items[j], items[i])) return [j, i];
  return undefined;
}

describe("uniqueItems in one pass", () => {
  it("finds the same first repeat as comparing every pair", () => {
    const small = fc.oneof(
      fc.constantFrom(0, 1, -0, 1.5, "1", "a", true, false, null),
      fc.constantFrom('{"a":1}', "[1]"),
    );
    const item = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        small,
        fc.array(tie("value"), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom("a", "b", "c"), tie("value"), { maxKeys: 3 }),
      ),
    })).value;
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), (items) => {
        expect(firstDuplicate(items)).toEqual(firstPair(items));
      }),
      { numRuns: 3_000 },
    );
    expect(
      firstDuplicate([
        { a: 1, b: [2] },
        { b: [2], a: 1 },
      ]),
    ).toEqual([0, 1]);
    expect(firstDuplicate(["{}", {}])).toBeUndefined();
  });

  it("answers with Ajv's message, pointing at the array", () => {
    const v = new SchemaValidators().compile("uniq", 1, {
      properties: { tags: { uniqueItems: true }, free: { uniqueItems: false } },
    });
    expect(v.validate({ tags: [1, 2, 3], free: [1, 1] })).toEqual([]);
    expect(v.validate({ tags: ["a", "b", "a"] })).toEqual([
      {
        pointer: "/tags",
        message: "must NOT have duplicate items (items ## 0 and 2 are identical)",
      },
    ]);
  });

  it("checks 100,000 distinct objects without comparing every pair", {
    timeout: 5_000,
  }, async () => {
    const data = [Array.from({ length: 100_000 }, (_, i) => ({ i }))];
    const verdicts = await validateBounded([{ schema: { uniqueItems: true }, data }], 4_500);
    expect(verdicts).toEqual([[[]]]);
  });

  it("reports data nested too deeply for the validator as a violation", () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 50_000; i++) deep = [deep];
    const v = new SchemaValidators().compile("deep", 1, {
      $defs: { n: { type: "array", items: { $ref: "#/$defs/n" } } },
      $ref: "#/$defs/n",
    });
    expect(v.validate(deep)).toEqual([{ pointer: "", message: "nests too deeply to validate" }]);
  });
});
