import { describe, expect, it } from "vitest";
import { diffSchemas, renderChanges, sameJson } from "./schema-diff.js";

const v1 = {
  type: "object",
  required: ["id", "total"],
  properties: {
    id: { type: "string" },
    total: { type: "integer" },
    note: { type: "string" },
  },
  additionalProperties: false,
};

const v2 = {
  additionalProperties: false,
  type: "object",
  required: ["total", "id", "currency"],
  properties: {
    id: { type: "string" },
    total: { type: "number" },
    currency: { enum: ["EUR", "USD"] },
  },
};

describe("diffSchemas", () => {
  it("finds nothing between the same schema with its keys in another order", () => {
    const { id, total, note } = v1.properties;
    const reordered = { ...v1, properties: { note, total, id } };
    expect(diffSchemas(v1, reordered)).toEqual([]);
    expect(sameJson(v1, reordered)).toBe(true);
  });

  it("names added, removed and changed keywords by pointer", () => {
    expect(diffSchemas(v1, v2)).toEqual([
      { op: "added", pointer: "/required/2", after: "currency" },
      { op: "changed", pointer: "/properties/total/type", before: "integer", after: "number" },
      { op: "removed", pointer: "/properties/note", before: { type: "string" } },
      { op: "added", pointer: "/properties/currency", after: { enum: ["EUR", "USD"] } },
    ]);
  });

  it("compares arrays of schemas by position", () => {
    const before = { anyOf: [{ type: "string" }, { type: "null" }] };
    const after = { anyOf: [{ type: "string", maxLength: 3 }] };
    expect(diffSchemas(before, after)).toEqual([
      { op: "added", pointer: "/anyOf/0/maxLength", after: 3 },
      { op: "removed", pointer: "/anyOf/1", before: { type: "null" } },
    ]);
  });

  it("reports a change of kind (a boolean schema to an object) at the root", () => {
    expect(diffSchemas(true, { type: "string" })).toEqual([
      { op: "changed", pointer: "", before: true, after: { type: "string" } },
    ]);
  });

  it("escapes property names in pointers", () => {
    expect(diffSchemas({ properties: {} }, { properties: { "a/b~c": true } })).toEqual([
      { op: "added", pointer: "/properties/a~1b~0c", after: true },
    ]);
  });
});

describe("renderChanges", () => {
  it("prints one aligned line per change", () => {
    expect(renderChanges(diffSchemas(v1, v2))).toEqual([
      '+ /required/2             "currency"',
      '~ /properties/total/type  "integer" → "number"',
      '- /properties/note        {"type":"string"}',
      '+ /properties/currency    {"enum":["EUR","USD"]}',
    ]);
  });

  it("shortens long values", () => {
    const [line] = renderChanges([{ op: "added", pointer: "/x", after: "y".repeat(200) }]);
    expect(line?.length).toBeLessThan(100);
    expect(line?.endsWith("…")).toBe(true);
  });
});
