import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { checkCompatibility, subsetBreaks } from "./compatibility.js";
import { type Break, HISTORIES, PAIRS, type PairCase } from "./compatibility.table.js";
import type { CompatibilityMode, CompatibilityResult, JsonSchema } from "./types.js";

function expectBreaks(result: CompatibilityResult, expected: readonly Break[]): void {
  const seen = JSON.stringify(result.errors, null, 1);
  expect(result.compatible, seen).toBe(expected.length === 0);
  const pointers = [...new Set(result.errors.map((e) => e.pointer))].sort();
  expect(pointers, seen).toEqual([...new Set(expected.map(([pointer]) => pointer))].sort());
  for (const [pointer, fragment] of expected) {
    const found = result.errors.some((e) => e.pointer === pointer && e.message.includes(fragment));
    expect(found, `${pointer}: "${fragment}" in ${seen}`).toBe(true);
  }
}

const full = (c: PairCase): Break[] => [...c.backward, ...c.forward];

/** The latest version equals the candidate but for a title: only the transitive modes see version 1. */
function retitled(schema: JsonSchema): JsonSchema {
  return typeof schema === "boolean" ? schema : { ...schema, title: "the latest version" };
}

describe("compatibility table", () => {
  it("holds at least 80 pairs per mode", () => {
    expect(PAIRS.length).toBeGreaterThanOrEqual(80);
  });

  it.each(PAIRS)("BACKWARD: $name", (c) => {
    expectBreaks(checkCompatibility([c.old], c.next, "BACKWARD"), c.backward);
  });

  it.each(PAIRS)("FORWARD: $name", (c) => {
    expectBreaks(checkCompatibility([c.old], c.next, "FORWARD"), c.forward);
  });

  it.each(PAIRS)("FULL: $name", (c) => {
    expectBreaks(checkCompatibility([c.old], c.next, "FULL"), full(c));
  });

  const transitive: [CompatibilityMode, CompatibilityMode, (c: PairCase) => readonly Break[]][] = [
    ["BACKWARD_TRANSITIVE", "BACKWARD", (c) => c.backward],
    ["FORWARD_TRANSITIVE", "FORWARD", (c) => c.forward],
    ["FULL_TRANSITIVE", "FULL", full],
  ];
  for (const [mode, latestOnly, expected] of transitive) {
    it.each(PAIRS)(`${mode}: $name, behind a latest version equal to the candidate`, (c) => {
      const history = [c.old, retitled(c.next)];
      expectBreaks(checkCompatibility(history, c.next, latestOnly), []);
      const result = checkCompatibility(history, c.next, mode);
      expectBreaks(result, expected(c));
      for (const e of result.errors) expect(e.message).not.toContain("version 2");
    });
  }

  it.each(PAIRS)("NONE: $name", (c) => {
    expect(checkCompatibility([c.old], c.next, "NONE")).toEqual({ compatible: true, errors: [] });
  });

  for (const h of HISTORIES) {
    for (const [mode, expected] of Object.entries(h.expect)) {
      it(`${mode}: ${h.name}`, () => {
        expectBreaks(
          checkCompatibility(h.history, h.candidate, mode as CompatibilityMode),
          expected,
        );
      });
    }
    it(`NONE: ${h.name}`, () => {
      expect(checkCompatibility(h.history, h.candidate, "NONE").compatible).toBe(true);
    });
  }
});

describe("witnesses: the breaks the table states are real", () => {
  const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
  const accepts = (schema: JsonSchema, value: unknown): boolean => {
    const validate = ajv.compile(schema);
    return validate(value) === true;
  };

  it.each(PAIRS.filter((c) => "backwardWitness" in c))("BACKWARD: $name", (c) => {
    expect(c.backward.length).toBeGreaterThan(0);
    expect(accepts(c.old, c.backwardWitness)).toBe(true);
    expect(accepts(c.next, c.backwardWitness)).toBe(false);
  });

  it.each(PAIRS.filter((c) => "forwardWitness" in c))("FORWARD: $name", (c) => {
    expect(c.forward.length).toBeGreaterThan(0);
    expect(accepts(c.next, c.forwardWitness)).toBe(true);
    expect(accepts(c.old, c.forwardWitness)).toBe(false);
  });
});

describe("subsetBreaks", () => {
  it("proves every schema of the table a subset of itself", () => {
    for (const c of PAIRS) {
      expect(subsetBreaks(c.old, structuredClone(c.old), "wider")).toEqual([]);
      expect(subsetBreaks(c.next, structuredClone(c.next), "narrower")).toEqual([]);
    }
  });

  it("points into the side it is asked to, naming the other", () => {
    const narrower = { type: "integer" };
    const wider = { type: "string" };
    expect(subsetBreaks(narrower, wider, "wider", "version 7")).toEqual([
      {
        pointer: "/type",
        message: "type narrowed: version 7 accepts integers; the new schema does not",
      },
    ]);
    expect(subsetBreaks(narrower, wider, "narrower")).toEqual([
      {
        pointer: "/type",
        message: "type widened: the new schema accepts integers; the old schema does not",
      },
    ]);
  });

  it("reports a $ref cycle that never reaches a property or item as unprovable", () => {
    const loop = {
      $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } },
      $ref: "#/$defs/a",
    };
    const other = { $defs: { a: { $ref: "#/$defs/a" } }, $ref: "#/$defs/a", type: "string" };
    const found = subsetBreaks({ type: "string" }, other, "wider");
    expect(found.map((p) => p.message).join("\n")).toContain("cycle");
    expect(subsetBreaks(loop, loop, "wider")).toEqual([]);
  });

  it("reports a nested $id as unprovable", () => {
    const withId = {
      type: "object",
      properties: { a: { $id: "https://example.com/a", type: "string" } },
    };
    const found = subsetBreaks({ type: "object" }, withId, "wider");
    expect(found).toEqual([
      {
        pointer: "/properties/a/$id",
        message: `cannot prove the change: a nested "$id" changes what "$ref"s mean, which the checker does not follow`,
      },
    ]);
  });

  it("answers unknown, never a match, for names a pattern engine may read differently", () => {
    // RE2 and JavaScript disagree on `\s` beyond ASCII: the property's schema is unknown.
    const old = {
      type: "object",
      patternProperties: { "^\\s": { type: "string" } },
      additionalProperties: false,
    };
    const next = { ...old, properties: { "\u00a0x": { type: "string" } } };
    expect(subsetBreaks(old, next, "wider").map((p) => p.pointer)).toEqual(["/patternProperties"]);
  });

  it("stays quick on wide anyOf products and deep nesting", () => {
    const branches = Array.from({ length: 12 }, (_, i) => ({
      type: "object",
      properties: { [`p${i}`]: { const: i } },
    }));
    let deep: JsonSchema = { type: "integer" };
    for (let i = 0; i < 30; i++)
      deep = { type: "object", properties: { n: deep }, additionalProperties: false };
    const started = Date.now();
    const result = checkCompatibility(
      [{ allOf: [{ anyOf: branches }, { anyOf: branches }] }],
      { anyOf: branches },
      "FULL",
    );
    expect(result.compatible).toBe(true);
    expect(checkCompatibility([deep], deep, "FULL_TRANSITIVE").compatible).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("docs/schemas.md examples", () => {
  const v1Open = { type: "object", properties: { id: { type: "string" } } };
  const v1Closed = { ...v1Open, additionalProperties: false };
  const withNote = (schema: Record<string, unknown>) => ({
    ...schema,
    properties: { id: { type: "string" }, note: { type: "string" } },
  });

  it("an optional property: refused in an open model, accepted in a closed one", () => {
    const open = checkCompatibility([v1Open], withNote(v1Open), "BACKWARD");
    expect(open.errors).toEqual([
      {
        pointer: "/properties/note",
        message: `property 'note' is new: version 1 allowed any value there (an open content model), so its events may carry a 'note' this schema rejects; keep 'note' unconstrained ({}) here, or close the content model: schemas registered with "additionalProperties": false can add optional properties compatibly`,
      },
    ]);
    expect(checkCompatibility([v1Closed], withNote(v1Closed), "BACKWARD").compatible).toBe(true);
    expect(checkCompatibility([v1Closed], withNote(v1Closed), "FORWARD").errors[0]?.message).toBe(
      `property 'note' is new: version 1 does not allow it (a closed content model, "additionalProperties": false)`,
    );
    const kept = { ...v1Open, properties: { id: { type: "string" }, note: {} } };
    expect(checkCompatibility([v1Open], kept, "BACKWARD").compatible).toBe(true);
  });

  it("a oneOf grows by a discriminated branch, not by an overlapping one", () => {
    const branch = (kind: string) => ({
      type: "object",
      required: ["kind"],
      properties: { kind: { const: kind } },
    });
    const payments = { oneOf: [branch("card"), branch("iban")] };
    const more = { oneOf: [branch("card"), branch("iban"), branch("cash")] };
    expect(checkCompatibility([payments], more, "BACKWARD")).toEqual({
      compatible: true,
      errors: [],
    });
    const numbers = { oneOf: [{ type: "integer" }, { type: "string" }] };
    const overlapping = { oneOf: [{ type: "integer" }, { type: "string" }, { type: "number" }] };
    expect(checkCompatibility([numbers], overlapping, "BACKWARD").errors[0]?.message).toContain(
      "cannot prove exactly one branch of oneOf matches",
    );
  });
});
