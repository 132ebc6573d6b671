import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { subsetBreaks } from "./compatibility.js";
import { PAIRS } from "./compatibility.table.js";
import type { JsonSchema } from "./types.js";

/**
 * Soundness, checked against Ajv: whenever the checker proves `narrower ⊆ wider`, instances
 * generated from `narrower` (and kept only when Ajv accepts them there) must be accepted by
 * `wider`. The generator follows the schema's keywords and draws names, numbers and strings
 * from both schemas, so instances land on the edges a change moves.
 */

type Obj = { readonly [keyword: string]: unknown };

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

interface Pools {
  readonly names: string[];
  readonly numbers: number[];
  readonly strings: string[];
}

function poolsOf(...schemas: unknown[]): Pools {
  const names = new Set(["a", "zz", "x-a", "y-a"]);
  const numbers = new Set([0, 1, -1, 0.5, 2.5, 100]);
  const strings = new Set(["", "a", "ab", "abc", "A", "x-a", "😀"]);
  const walk = (value: unknown, parent: string): void => {
    if (typeof value === "number") for (const d of [0, 1, -1, 0.5, -0.5]) numbers.add(value + d);
    else if (typeof value === "string") {
      strings.add(value);
      if (parent === "required") names.add(value);
    } else if (Array.isArray(value)) for (const v of value) walk(v, parent);
    else if (isObj(value)) {
      for (const [key, sub] of Object.entries(value)) {
        if (parent === "properties" || parent === "dependentRequired") names.add(key);
        if (parent === "patternProperties") names.add(`${key.replace(/[\^$]/g, "")}a`);
        walk(sub, key);
      }
    }
  };
  for (const s of schemas) walk(s, "");
  return { names: [...names], numbers: [...numbers], strings: [...strings] };
}

interface Gen {
  readonly root: JsonSchema;
  readonly pools: Pools;
}

function anyValue(g: Gen): fc.Arbitrary<unknown> {
  const scalar = fc.constantFrom<unknown>(
    null,
    true,
    false,
    ...g.pools.numbers,
    ...g.pools.strings,
  );
  return fc.oneof(
    { arbitrary: scalar, weight: 4 },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
    {
      arbitrary: fc.dictionary(fc.constantFrom(...g.pools.names), scalar, {
        maxKeys: 3,
        noNullPrototype: true,
      }),
      weight: 2,
    },
    { arbitrary: fc.array(scalar, { maxLength: 3 }), weight: 2 },
  );
}

function resolve(root: JsonSchema, ref: unknown): JsonSchema {
  if (typeof ref !== "string" || !ref.startsWith("#")) return true;
  let at: unknown = root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    at = isObj(at) || Array.isArray(at) ? (at as Record<string, unknown>)[key] : undefined;
  }
  return typeof at === "boolean" || isObj(at) ? at : true;
}

/** Proposals for instances of `schema`; Ajv decides which are instances. */
function instances(schema: unknown, g: Gen, depth: number): fc.Arbitrary<unknown> {
  const any = anyValue(g);
  if (!isObj(schema) || depth > 5) return any;
  const s = schema;
  const proposals: fc.Arbitrary<unknown>[] = [];
  if ("$ref" in s) proposals.push(instances(resolve(g.root, s.$ref), g, depth + 1));
  for (const kw of ["allOf", "anyOf", "oneOf"]) {
    const list = s[kw];
    if (Array.isArray(list)) for (const sub of list) proposals.push(instances(sub, g, depth + 1));
  }
  const listed = "const" in s ? [s.const] : Array.isArray(s.enum) ? s.enum : [];
  if (listed.length > 0)
    return fc.oneof({ arbitrary: fc.constantFrom(...listed), weight: 8 }, ...proposals, any);
  for (const t of s.type === undefined ? hintedTypes(s) : [s.type].flat())
    proposals.push(typed(String(t), s, g, depth));
  return fc.oneof(...proposals.map((arbitrary) => ({ arbitrary, weight: 4 })), {
    arbitrary: any,
    weight: 1,
  });
}

const HINTS: Record<string, string> = {
  properties: "object",
  required: "object",
  additionalProperties: "object",
  patternProperties: "object",
  minProperties: "object",
  maxProperties: "object",
  dependentRequired: "object",
  items: "array",
  prefixItems: "array",
  minItems: "array",
  maxItems: "array",
  uniqueItems: "array",
  contains: "array",
  minLength: "string",
  maxLength: "string",
  pattern: "string",
  minimum: "number",
  maximum: "number",
  multipleOf: "number",
};

/** The types a schema without `type` hints at by its keywords (all when none). */
function hintedTypes(s: Obj): string[] {
  const hinted = [...new Set(Object.keys(s).flatMap((k) => HINTS[k] ?? []))];
  return hinted.length > 0
    ? hinted
    : ["null", "boolean", "integer", "number", "string", "array", "object"];
}

function num(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}

function typed(type: string, s: Obj, g: Gen, depth: number): fc.Arbitrary<unknown> {
  const lo = Math.max(-1000, Math.ceil(num(s.minimum) ?? num(s.exclusiveMinimum) ?? -50));
  const hi = Math.min(1000, Math.floor(num(s.maximum) ?? num(s.exclusiveMaximum) ?? 50));
  const ints = lo <= hi ? fc.integer({ min: lo, max: hi }) : fc.integer({ min: -5, max: 5 });
  const pooled = fc.constantFrom(...g.pools.numbers);
  const m = num(s.multipleOf);
  const multiples = m ? fc.integer({ min: -20, max: 20 }).map((k) => k * m) : ints;
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.oneof(ints, multiples, pooled);
    case "number":
      return fc.oneof(
        ints,
        multiples,
        pooled,
        fc.double({ min: lo, max: Math.max(lo, hi), noNaN: true, noDefaultInfinity: true }),
      );
    case "string": {
      const min = num(s.minLength) ?? 0;
      const max = Math.max(min, Math.min(num(s.maxLength) ?? min + 6, min + 6));
      return fc.oneof(
        fc.string({ minLength: min, maxLength: max }),
        fc.constantFrom(...g.pools.strings),
      );
    }
    case "array":
      return arrays(s, g, depth);
    case "object":
      return objects(s, g, depth);
    default:
      return anyValue(g);
  }
}

function arrays(s: Obj, g: Gen, depth: number): fc.Arbitrary<unknown> {
  const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : [];
  const min = num(s.minItems) ?? 0;
  const max = Math.max(min, Math.min(num(s.maxItems) ?? prefix.length + 3, prefix.length + 3));
  const positions = Array.from({ length: max }, (_, i) =>
    instances(i < prefix.length ? prefix[i] : (s.items ?? true), g, depth + 1),
  );
  const drawn = fc.integer({ min, max }).chain((n) => fc.tuple(...positions.slice(0, n)));
  if (!("contains" in s)) return drawn;
  const holding = fc
    .tuple(drawn, instances(s.contains, g, depth + 1))
    .map(([items, one]) => [...items, one]);
  return fc.oneof(drawn, holding);
}

function objects(s: Obj, g: Gen, depth: number): fc.Arbitrary<unknown> {
  const props = isObj(s.properties) ? s.properties : {};
  const required = Array.isArray(s.required)
    ? s.required.filter((r): r is string => typeof r === "string")
    : [];
  const model = Object.fromEntries(
    [...new Set([...Object.keys(props), ...required])].map((k) => [
      k,
      instances(props[k] ?? true, g, depth + 1),
    ]),
  );
  const listed = fc.record(model, { requiredKeys: required, noNullPrototype: true });
  const rest = [anyValue(g), instances(s.additionalProperties ?? true, g, depth + 1)];
  if (isObj(s.patternProperties)) {
    for (const sub of Object.values(s.patternProperties)) rest.push(instances(sub, g, depth + 1));
  }
  const extras = fc.oneof(
    { arbitrary: fc.constant({}), weight: s.additionalProperties === false ? 3 : 1 },
    {
      arbitrary: fc.dictionary(fc.constantFrom(...g.pools.names), fc.oneof(...rest), {
        maxKeys: 3,
        noNullPrototype: true,
      }),
      weight: 1,
    },
  );
  return fc.tuple(extras, listed).map(([e, l]) => ({ ...e, ...l }));
}

const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });

/** Ajv refuses it as a schema (the registry would never hold it). */
function refused(schema: JsonSchema): boolean {
  if (ajv.validateSchema(schema) !== true) return true;
  try {
    ajv.compile(schema);
    return false;
  } catch {
    return true;
  }
}

/** The instances checked: how many the narrower side accepted, and the first the wider one rejected. */
function sampleInclusion(
  narrower: JsonSchema,
  wider: JsonSchema,
  seed: number,
  runs: number,
): { valid: number; escaped?: unknown } {
  const inNarrower = ajv.compile(narrower);
  const inWider = ajv.compile(wider);
  const g = { root: narrower, pools: poolsOf(narrower, wider) };
  let valid = 0;
  for (const drawn of fc.sample(instances(narrower, g, 0), { seed, numRuns: runs })) {
    // As events arrive: JSON text (no -0, no prototypes).
    const value: unknown = JSON.parse(JSON.stringify(drawn) ?? "null");
    if (!inNarrower(value)) continue;
    valid += 1;
    if (!inWider(value)) return { valid, escaped: value };
  }
  return { valid };
}

/** Narrower sides the generator rarely hits (or that accept nothing): too few samples is not a failure there. */
const SPARSE = new Set(["true to false", "false to true"]);

describe("property: what the checker proves, Ajv confirms", () => {
  const directions = PAIRS.flatMap((c) => [
    ...(c.backward.length === 0
      ? [{ name: `BACKWARD ${c.name}`, narrower: c.old, wider: c.next, key: c.name }]
      : []),
    ...(c.forward.length === 0
      ? [{ name: `FORWARD ${c.name}`, narrower: c.next, wider: c.old, key: c.name }]
      : []),
  ]);

  it("covers most of the table", () => {
    expect(directions.length).toBeGreaterThan(80);
  });

  it.each(directions)("$name", ({ narrower, wider, key }) => {
    expect(subsetBreaks(narrower, wider, "wider")).toEqual([]);
    const { valid, escaped } = sampleInclusion(narrower, wider, 20_251, 400);
    expect(escaped, "an instance of the narrower schema the wider one rejects").toBeUndefined();
    if (narrower !== false && !SPARSE.has(key)) expect(valid).toBeGreaterThanOrEqual(20);
  });
});

describe("property: random schema pairs", () => {
  const names = ["a", "b", "x-c"];
  const leaf = fc.oneof(
    fc.constantFrom<JsonSchema>(
      true,
      {},
      { type: "string" },
      { type: "integer" },
      { type: "number" },
      { type: "boolean" },
      { type: "null" },
      { type: ["string", "null"] },
      { type: ["integer", "string"] },
    ),
    fc.record(
      {
        type: fc.constantFrom("integer", "number"),
        minimum: fc.integer({ min: -3, max: 3 }),
        maximum: fc.integer({ min: -3, max: 3 }),
        exclusiveMinimum: fc.constantFrom(-2, 0, 0.5),
        multipleOf: fc.constantFrom(1, 2, 0.5),
      },
      { requiredKeys: ["type"] },
    ),
    fc.record(
      {
        type: fc.constant("string"),
        minLength: fc.nat(3),
        maxLength: fc.nat(4),
        pattern: fc.constantFrom("^a", "b$"),
      },
      { requiredKeys: ["type"] },
    ),
    fc.record({
      enum: fc.uniqueArray(fc.constantFrom<unknown>("a", "b", 1, 2, 1.5, null, true), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
    fc.record({ const: fc.constantFrom<unknown>("a", 1, null, { a: 1 }) }),
  );
  const { node } = fc.letrec<{
    node: JsonSchema;
    object: JsonSchema;
    array: JsonSchema;
    combined: JsonSchema;
  }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", maxDepth: 3 },
      leaf,
      fc.constant<JsonSchema>({ $ref: "#/$defs/d" }),
      tie("object"),
      tie("array"),
      tie("combined"),
    ),
    object: fc.record(
      {
        type: fc.constant("object"),
        properties: fc.dictionary(fc.constantFrom(...names), tie("node"), { maxKeys: 3 }),
        required: fc.subarray(names),
        additionalProperties: fc.oneof(fc.constant(false), fc.constant(true), tie("node")),
        patternProperties: fc.dictionary(fc.constantFrom("^x-", "^b"), tie("node"), { maxKeys: 1 }),
        minProperties: fc.nat(2),
        maxProperties: fc.nat(3),
        unevaluatedProperties: fc.constant(false),
        dependentRequired: fc.constant({ a: ["b"] }),
        propertyNames: fc.constant({ maxLength: 1 }),
      },
      { requiredKeys: [] },
    ),
    array: fc.record(
      {
        type: fc.constant("array"),
        items: tie("node"),
        prefixItems: fc.array(tie("node"), { minLength: 1, maxLength: 2 }),
        minItems: fc.nat(2),
        maxItems: fc.nat(3),
        uniqueItems: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    combined: fc
      .tuple(
        fc.constantFrom("anyOf", "oneOf", "allOf"),
        fc.array(tie("node"), { minLength: 1, maxLength: 3 }),
      )
      .map(([kw, list]): JsonSchema => ({ [kw]: list })),
  }));

  /** A small change to a schema: a keyword dropped, a bound moved, a type widened, a property's schema changed. */
  function mutate(schema: JsonSchema, picks: readonly number[]): JsonSchema {
    if (!isObj(schema)) return picks[0] === 0 ? {} : schema;
    const keys = Object.keys(schema);
    const [first = 0, second = 0, ...rest] = picks;
    const key = keys[first % Math.max(keys.length, 1)];
    if (key === undefined) return { type: "string" };
    const value = schema[key];
    const copy: Record<string, unknown> = { ...schema };
    switch (second % 4) {
      case 0:
        delete copy[key];
        return copy;
      case 1:
        if (typeof value === "number") copy[key] = value + (first % 2 === 0 ? 1 : -1);
        else if (key === "type") copy[key] = [value, "null"].flat();
        else if (Array.isArray(value)) copy[key] = value.slice(1);
        return copy;
      case 2:
        if (isObj(value)) {
          const inner = Object.keys(value);
          const name = inner[first % Math.max(inner.length, 1)];
          if (name !== undefined)
            copy[key] = { ...value, [name]: mutate(value[name] as JsonSchema, rest) };
        } else if (typeof value === "boolean") copy[key] = !value;
        return copy;
      default:
        return { ...copy, [key]: isObj(value) ? mutate(value, rest) : value };
    }
  }

  /** The target of every `#/$defs/d`: a leaf, or an object that may nest itself. */
  const def = fc.oneof(
    leaf,
    fc.record(
      {
        type: fc.constant("object"),
        properties: fc.record(
          { next: fc.constant({ $ref: "#/$defs/d" }), v: leaf },
          { requiredKeys: [] },
        ),
        additionalProperties: fc.boolean(),
      },
      { requiredKeys: ["type"] },
    ),
  );

  function withDefs(schema: JsonSchema, d: JsonSchema): JsonSchema {
    return isObj(schema) ? { ...schema, $defs: { d } } : { allOf: [schema], $defs: { d } };
  }

  const bare = fc.oneof(
    fc.tuple(node, node),
    fc.tuple(node, node).map(([a, b]): [JsonSchema, JsonSchema] => [a, { anyOf: [b, a] }]),
    fc.tuple(node, node).map(([a, b]): [JsonSchema, JsonSchema] => [{ allOf: [a, b] }, a]),
    fc
      .tuple(node, fc.array(fc.nat(7), { minLength: 6, maxLength: 6 }))
      .map(([a, picks]): [JsonSchema, JsonSchema] => [a, mutate(a, picks)]),
    fc
      .tuple(node, fc.array(fc.nat(7), { minLength: 6, maxLength: 6 }))
      .map(([a, picks]): [JsonSchema, JsonSchema] => [mutate(a, picks), a]),
  );
  const pairs = fc
    .tuple(bare, def, fc.array(fc.nat(7), { minLength: 6, maxLength: 6 }), fc.nat(2))
    .map(([[a, b], d, picks, how]): [JsonSchema, JsonSchema] => {
      const other = how === 0 ? d : mutate(d, picks);
      return how === 2
        ? [withDefs(a, other), withDefs(b, d)]
        : [withDefs(a, d), withDefs(b, other)];
    });

  it("never proves an inclusion an instance refutes", () => {
    let proven = 0;
    fc.assert(
      fc.property(pairs, ([narrower, wider]) => {
        if (refused(narrower) || refused(wider)) return true;
        if (subsetBreaks(narrower, wider, "wider").length > 0) return true;
        proven += 1;
        const { escaped } = sampleInclusion(narrower, wider, 7, 40);
        return escaped === undefined;
      }),
      { seed: 11_111, numRuns: 400 },
    );
    console.info(`random pairs proven included: ${proven} of 400`);
    expect(proven).toBeGreaterThan(100);
  });
});
