import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { codePoints, longerThan, shorterThan } from "./string-length.js";
import { SchemaValidators } from "./validators.js";

describe("string length by code points", () => {
  it("counts astral characters once and lone surrogates once", () => {
    expect(codePoints("")).toBe(0);
    expect(codePoints("a😀b")).toBe(3);
    expect(codePoints("\ud83d")).toBe(1);
    expect(codePoints("\ude00\ud83d")).toBe(2);
  });

  it("decides like an exact count for every string and limit", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.nat(45), (s, limit) => {
        const n = [...s].length;
        expect(longerThan(s, limit)).toBe(n > limit);
        expect(shorterThan(s, limit)).toBe(n < limit);
      }),
      { numRuns: 2_000 },
    );
  });

  it("keeps Ajv's messages for maxLength and minLength", () => {
    const v = new SchemaValidators().compile("len", 1, {
      type: "object",
      properties: { a: { maxLength: 2 }, b: { minLength: 2 } },
    });
    expect(v.validate({ a: "😀😀", b: "😀😀" })).toEqual([]);
    expect(v.validate({ a: "abc" })).toEqual([
      { pointer: "/a", message: "must NOT have more than 2 characters" },
    ]);
    expect(v.validate({ b: "😀" })).toEqual([
      { pointer: "/b", message: "must NOT have fewer than 2 characters" },
    ]);
  });
});
