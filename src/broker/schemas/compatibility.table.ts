import type { JsonSchema } from "./types.js";

/**
 * The checker's case table: schema pairs with the expected verdict in each direction, and
 * multi-version histories for the transitive modes. A break is `[pointer, fragment]`: the
 * pointer into the new schema and a piece of the message. `[]` means compatible.
 * Witnesses are instances that show a break is real: Ajv must accept them under one side
 * and reject them under the other.
 */
export type Break = readonly [pointer: string, fragment: string];

export interface PairCase {
  readonly name: string;
  readonly old: JsonSchema;
  readonly next: JsonSchema;
  /** BACKWARD: every instance `old` accepts, `next` accepts. */
  readonly backward: readonly Break[];
  /** FORWARD: every instance `next` accepts, `old` accepts. */
  readonly forward: readonly Break[];
  /** Accepted by `old`, rejected by `next`. */
  readonly backwardWitness?: unknown;
  /** Accepted by `next`, rejected by `old`. */
  readonly forwardWitness?: unknown;
}

type Witnesses = { readonly b?: unknown; readonly f?: unknown };

function pair(
  name: string,
  old: JsonSchema,
  next: JsonSchema,
  backward: readonly Break[],
  forward: readonly Break[],
  witness: Witnesses = {},
): PairCase {
  return {
    name,
    old,
    next,
    backward,
    forward,
    ...("b" in witness ? { backwardWitness: witness.b } : {}),
    ...("f" in witness ? { forwardWitness: witness.f } : {}),
  };
}

const ok: readonly Break[] = [];

const str = { type: "string" } as const;
const int = { type: "integer" } as const;
const num = { type: "number" } as const;

type Obj = { readonly [keyword: string]: unknown };

function obj(properties: Record<string, JsonSchema>, extra: Record<string, unknown> = {}): Obj {
  return { type: "object", properties, ...extra };
}

function closed(properties: Record<string, JsonSchema>, extra: Record<string, unknown> = {}): Obj {
  return obj(properties, { additionalProperties: false, ...extra });
}

const order = closed(
  { id: str, total: int, currency: { enum: ["EUR", "USD"] } },
  { required: ["id", "total"] },
);

const kinds = (...names: string[]): JsonSchema[] =>
  names.map((k) => closed({ kind: { const: k }, v: int }, { required: ["kind"] }));

export const PAIRS: readonly PairCase[] = [
  // Booleans, empty schemas, annotations.
  pair("identical", order, order, ok, ok),
  pair("true to false", true, false, [["", "accepts nothing here (false)"]], ok, { b: 1 }),
  pair("false to true", false, true, ok, [["", "version 1 accepts nothing here (false)"]], {
    f: 1,
  }),
  pair(
    "{} to a string",
    {},
    str,
    [["/type", "type narrowed: version 1 accepts null, booleans"]],
    ok,
    {
      b: 1,
    },
  ),
  pair("a string to {}", str, {}, ok, [["", "type widened: the new schema accepts null"]], {
    f: 1,
  }),
  pair("a string to true", str, true, ok, [["", "type widened"]], { f: [] }),
  pair(
    "annotations only",
    { ...str, title: "Name", description: "a name" },
    { ...str, title: "Full name", examples: ["Ada"], default: "x", $comment: "renamed" },
    ok,
    ok,
  ),
  pair(
    "deprecated and readOnly",
    obj({ a: str }),
    obj({ a: { ...str, deprecated: true, readOnly: true } }),
    ok,
    ok,
  ),

  // Types.
  pair(
    "string to nullable string",
    str,
    { type: ["string", "null"] },
    ok,
    [["/type", "type widened: the new schema accepts null; version 1 does not"]],
    { f: null },
  ),
  pair(
    "nullable string to string",
    { type: ["string", "null"] },
    str,
    [["/type", "type narrowed: version 1 accepts null; the new schema does not"]],
    ok,
    { b: null },
  ),
  pair(
    "integer to number",
    int,
    num,
    ok,
    [["/type", "type widened: the new schema accepts non-integer numbers; version 1 does not"]],
    { f: 1.5 },
  ),
  pair("number to integer", num, int, [["/type", "version 1 accepts non-integer numbers"]], ok, {
    b: 0.5,
  }),
  pair(
    "string to number",
    str,
    num,
    [["/type", "version 1 accepts strings"]],
    [["/type", "the new schema accepts numbers"]],
    { b: "a", f: 1 },
  ),
  pair(
    "boolean to boolean or string",
    { type: "boolean" },
    { type: ["boolean", "string"] },
    ok,
    [["/type", "accepts strings"]],
    { f: "x" },
  ),
  pair(
    "object to object or array",
    { type: "object" },
    { type: ["object", "array"] },
    ok,
    [["/type", "accepts arrays"]],
    { f: [] },
  ),
  pair("number to integer or number", num, { type: ["integer", "number"] }, ok, ok),
  pair("null type to const null", { type: "null" }, { const: null }, ok, ok),
  pair("boolean to both enum values", { type: "boolean" }, { enum: [true, false] }, ok, ok),
  pair(
    "boolean to enum [true]",
    { type: "boolean" },
    { enum: [true] },
    [["/enum", "value false is no longer accepted"]],
    ok,
    {
      b: false,
    },
  ),
  pair(
    "integer to integer with minimum",
    int,
    { ...int, minimum: 0 },
    [["/minimum", "minimum 0 rejects integers version 1 accepts (version 1: no lower bound)"]],
    ok,
    { b: -1 },
  ),

  // enum and const.
  pair(
    "enum gains a value",
    { enum: ["a", "b"] },
    { enum: ["a", "b", "c"] },
    ok,
    [["/enum/2", `value "c" is new: version 1 rejects it`]],
    { f: "c" },
  ),
  pair(
    "enum loses a value",
    { enum: ["a", "b", "c"] },
    { enum: ["a", "b"] },
    [
      [
        "/enum",
        `value "c" is no longer accepted (not one of the enum values): events valid under version 1 may carry it`,
      ],
    ],
    ok,
    { b: "c" },
  ),
  pair("enum reordered", { enum: ["a", "b", 1] }, { enum: [1, "b", "a"] }, ok, ok),
  pair(
    "const changed",
    { const: "a" },
    { const: "b" },
    [["/const", `value "a" is no longer accepted`]],
    [["/const", `value "b" is new`]],
    { b: "a", f: "b" },
  ),
  pair(
    "string gains an enum",
    str,
    { ...str, enum: ["a", "b"] },
    [
      [
        "/enum",
        `only the listed values are accepted now ("enum"): version 1 accepts other strings`,
      ],
    ],
    ok,
    { b: "z" },
  ),
  pair(
    "string loses its enum",
    { ...str, enum: ["a", "b"] },
    str,
    ok,
    [["/type", `the new schema accepts strings beyond the values version 1 lists ("enum")`]],
    { f: "z" },
  ),
  pair(
    "mixed enum to string",
    { enum: ["a", 1] },
    str,
    [["/type", "version 1 accepts integers"]],
    [["/type", "the new schema accepts strings beyond the values"]],
    { b: 1, f: "z" },
  ),
  pair(
    "const object to enum of objects",
    { const: { a: 1 } },
    { enum: [{ a: 1 }, { a: 2 }] },
    ok,
    [["/enum/1", `value {"a":2} is new`]],
    { f: { a: 2 } },
  ),
  pair(
    "enum of integers to a bounded integer",
    { enum: [1, 2] },
    { ...int, minimum: 1, maximum: 2 },
    ok,
    [["/type", "the new schema accepts integers beyond the values version 1 lists"]],
  ),
  pair(
    "enum [1.5] to integer",
    { enum: [1.5] },
    int,
    [["/type", "version 1 accepts non-integer numbers"]],
    [["/type", "beyond the values"]],
    { b: 1.5, f: 1 },
  ),
  pair(
    "enum narrowed by the other keywords",
    { ...str, enum: ["a", "bb", 3] },
    { ...str, maxLength: 2 },
    ok,
    [["/type", "beyond the values"]],
  ),
  pair(
    "const equal under key order",
    { const: { a: 1, b: [1, 2] } },
    { const: { b: [1, 2], a: 1 } },
    ok,
    ok,
  ),

  // Numeric bounds.
  pair(
    "minimum raised",
    { ...num, minimum: 0 },
    { ...num, minimum: 1 },
    [["/minimum", "minimum 1 rejects numbers version 1 accepts (version 1: minimum 0)"]],
    ok,
    { b: 0.5 },
  ),
  pair(
    "minimum lowered",
    { ...num, minimum: 1 },
    { ...num, minimum: 0 },
    ok,
    [
      [
        "/minimum",
        "the new schema accepts numbers version 1 rejects (version 1: minimum 1; the new schema: minimum 0)",
      ],
    ],
    { f: 0.5 },
  ),
  pair(
    "maximum lowered",
    { ...int, maximum: 10 },
    { ...int, maximum: 5 },
    [["/maximum", "maximum 5 rejects integers"]],
    ok,
    {
      b: 7,
    },
  ),
  pair(
    "maximum removed",
    { ...num, maximum: 10 },
    num,
    ok,
    [["", "(version 1: maximum 10; the new schema: no upper bound)"]],
    { f: 11 },
  ),
  pair(
    "integer exclusiveMinimum 0 is minimum 1",
    { ...int, exclusiveMinimum: 0 },
    { ...int, minimum: 1 },
    ok,
    ok,
  ),
  pair(
    "number exclusiveMinimum to minimum",
    { ...num, exclusiveMinimum: 0 },
    { ...num, minimum: 0 },
    ok,
    [["/minimum", "(version 1: exclusiveMinimum 0; the new schema: minimum 0)"]],
    { f: 0 },
  ),
  pair(
    "number minimum to exclusiveMinimum",
    { ...num, minimum: 0 },
    { ...num, exclusiveMinimum: 0 },
    [
      [
        "/exclusiveMinimum",
        "exclusiveMinimum 0 rejects numbers version 1 accepts (version 1: minimum 0)",
      ],
    ],
    ok,
    { b: 0 },
  ),
  pair(
    "integer minimum 1.5 is minimum 2",
    { ...int, minimum: 1.5 },
    { ...int, minimum: 2 },
    ok,
    ok,
  ),
  pair(
    "both bounds tightened",
    { ...int, minimum: 0, maximum: 100 },
    { ...int, minimum: 1, maximum: 99 },
    [
      ["/minimum", "minimum 1"],
      ["/maximum", "maximum 99"],
    ],
    ok,
    { b: 0 },
  ),
  pair(
    "multipleOf added",
    int,
    { ...int, multipleOf: 5 },
    [["/multipleOf", "multipleOf 5 rejects numbers"]],
    ok,
    { b: 3 },
  ),
  pair(
    "multipleOf 10 to 5, unbounded",
    { ...int, multipleOf: 10 },
    { ...int, multipleOf: 5 },
    [
      [
        "/multipleOf",
        "cannot prove multipleOf 5 holds for every integer version 1 accepts: the validator's multipleOf test fails for very large numbers",
      ],
    ],
    [["/multipleOf", "cannot prove every multiple of 5 (the new schema) is a multiple of 10"]],
    { b: 6e21, f: 5 },
  ),
  pair(
    "multipleOf 10 to 5, bounded",
    { ...int, minimum: -1000, maximum: 1000, multipleOf: 10 },
    { ...int, minimum: -1000, maximum: 1000, multipleOf: 5 },
    ok,
    [["/multipleOf", "cannot prove every multiple of 5 (the new schema) is a multiple of 10"]],
    { f: 5 },
  ),
  pair(
    "multipleOf 0.5 to 0.1",
    { ...num, multipleOf: 0.5 },
    { ...num, multipleOf: 0.1 },
    [["/multipleOf", "cannot prove every multiple of 0.5 (version 1) is a multiple of 0.1"]],
    [["/multipleOf", "cannot prove every multiple of 0.1 (the new schema) is a multiple of 0.5"]],
    { f: 0.1 },
  ),
  pair(
    "unbounded integers and multipleOf 1",
    int,
    { ...int, multipleOf: 1 },
    [["/multipleOf", "cannot prove multipleOf 1 holds for every integer version 1 accepts"]],
    ok,
    { b: 1e21 },
  ),
  pair(
    "bounded integers are multiples of 1",
    { ...int, minimum: -1000, maximum: 1000 },
    { ...int, minimum: -1000, maximum: 1000, multipleOf: 1 },
    ok,
    ok,
  ),

  // Strings.
  pair(
    "minLength added",
    str,
    { ...str, minLength: 1 },
    [["/minLength", "minLength 1 rejects strings version 1 accepts (version 1: no lower bound)"]],
    ok,
    { b: "" },
  ),
  pair(
    "maxLength raised",
    { ...str, maxLength: 10 },
    { ...str, maxLength: 20 },
    ok,
    [["/maxLength", "(version 1: maxLength 10; the new schema: maxLength 20)"]],
    { f: "x".repeat(15) },
  ),
  pair(
    "pattern added",
    str,
    { ...str, pattern: "^[a-z]+$" },
    [
      [
        "/pattern",
        `cannot prove pattern "^[a-z]+$" accepts every string version 1 accepts (version 1: no pattern)`,
      ],
    ],
    ok,
    { b: "A" },
  ),
  pair(
    "pattern kept",
    { ...str, pattern: "^a", maxLength: 5 },
    { ...str, pattern: "^a", maxLength: 9 },
    ok,
    [["/maxLength", "maxLength 9"]],
    { f: "abcdefg" },
  ),
  pair(
    "pattern changed (widened, still unprovable)",
    { ...str, pattern: "^a" },
    { ...str, pattern: "^a|^b" },
    [["/pattern", "pattern changes are not compared"]],
    [["/pattern", `cannot prove version 1's pattern "^a"`]],
    { f: "b" },
  ),
  pair(
    "pattern removed",
    { ...str, pattern: "^a" },
    str,
    ok,
    [["", `cannot prove version 1's pattern "^a"`]],
    { f: "b" },
  ),
  pair(
    "format added",
    str,
    { ...str, format: "email" },
    [["/format", `cannot prove "format" accepts every value`]],
    ok,
  ),
  pair(
    "format kept",
    { ...str, format: "email" },
    { type: ["string", "null"], format: "email" },
    ok,
    [["/type", "type widened"]],
    { f: null },
  ),
  pair(
    "format changed",
    { ...str, format: "email" },
    { ...str, format: "uri" },
    [["/format", `cannot prove "format"`]],
    [["/format", `cannot prove version 1's "format"`]],
  ),
  pair("const string to a pattern it matches", { const: "abc" }, { ...str, pattern: "^a" }, ok, [
    ["/type", "beyond the values"],
  ]),
  pair(
    "const string to a pattern it misses",
    { const: "abc" },
    { ...str, pattern: "^b" },
    [["/pattern", `value "abc" is no longer accepted (does not match pattern "^b")`]],
    [["/type", "beyond the values"]],
    { b: "abc", f: "b" },
  ),
  pair("string enum within maxLength", { enum: ["ab", "cd"] }, { ...str, maxLength: 2 }, ok, [
    ["/type", "beyond the values"],
  ]),
  pair("string lengths count code points", { const: "😀😀" }, { ...str, maxLength: 2 }, ok, [
    ["/type", "beyond the values"],
  ]),

  // Required properties.
  pair(
    "required added to an optional property",
    obj({ a: str, b: int }, { required: ["a"] }),
    obj({ a: str, b: int }, { required: ["a", "b"] }),
    [["/required/1", "new required property 'b': events valid under version 1 lack it"]],
    ok,
    { b: { a: "x" } },
  ),
  pair(
    "required removed",
    obj({ a: str, b: int }, { required: ["a", "b"] }),
    obj({ a: str, b: int }, { required: ["a"] }),
    ok,
    [
      [
        "/required",
        "property 'b' is no longer required: events valid under the new schema may lack it, and version 1 requires it",
      ],
    ],
    { f: { a: "x" } },
  ),
  pair(
    "all required removed",
    obj({ a: str }, { required: ["a"] }),
    obj({ a: str }),
    ok,
    [["", "property 'a' is no longer required"]],
    { f: {} },
  ),
  pair(
    "required reordered",
    obj({ a: str, b: int }, { required: ["a", "b"] }),
    obj({ a: str, b: int }, { required: ["b", "a"] }),
    ok,
    ok,
  ),
  pair(
    "new required property in a closed model",
    closed({ id: str, total: int }, { required: ["id"] }),
    closed({ id: str, total: int, currency: str }, { required: ["id", "currency"] }),
    [["/required/1", "new required property 'currency': events valid under version 1 lack it"]],
    [["/properties/currency", "property 'currency' is new: version 1 does not allow it"]],
    { b: { id: "1" }, f: { id: "1", currency: "EUR" } },
  ),
  pair(
    "minProperties met by required",
    obj({ a: str, b: str }, { required: ["a", "b"] }),
    obj({ a: str, b: str }, { required: ["a", "b"], minProperties: 2 }),
    ok,
    ok,
  ),
  pair(
    "minProperties added",
    obj({ a: str }),
    obj({ a: str }, { minProperties: 1 }),
    [["/minProperties", "minProperties 1 rejects objects version 1 accepts"]],
    ok,
    { b: {} },
  ),
  pair(
    "maxProperties met by a closed model",
    closed({ a: str, b: str }),
    closed({ a: str, b: str }, { maxProperties: 2 }),
    ok,
    ok,
  ),
  pair(
    "maxProperties added to an open model",
    obj({ a: str }),
    obj({ a: str }, { maxProperties: 3 }),
    [
      [
        "/maxProperties",
        "maxProperties 3 rejects objects version 1 accepts (version 1: no upper bound)",
      ],
    ],
    ok,
    { b: { a: "x", b: 1, c: 2, d: 3 } },
  ),
  pair(
    "dependentRequired added",
    obj({ a: str, b: str }),
    obj({ a: str, b: str }, { dependentRequired: { a: ["b"] } }),
    [["/dependentRequired/a/0", "property 'b' is newly required when 'a' is present"]],
    ok,
    { b: { a: "x" } },
  ),
  pair(
    "dependentRequired removed",
    obj({ a: str, b: str }, { dependentRequired: { a: ["b"] } }),
    obj({ a: str, b: str }),
    ok,
    [["", "property 'b' is no longer required when 'a' is present"]],
    { f: { a: "x" } },
  ),

  // Content models: open, closed, partially open.
  pair(
    "open model: optional property added",
    obj({ a: str }),
    obj({ a: str, note: str }),
    [
      [
        "/properties/note",
        "property 'note' is new: version 1 allowed any value there (an open content model)",
      ],
    ],
    ok,
    { b: { a: "x", note: 1 } },
  ),
  pair(
    "open model: unconstrained property added",
    obj({ a: str }),
    obj({ a: str, note: {} }),
    ok,
    ok,
  ),
  pair(
    "closed model: optional property added",
    closed({ a: str }),
    closed({ a: str, note: str }),
    ok,
    [
      [
        "/properties/note",
        "property 'note' is new: version 1 does not allow it (a closed content model",
      ],
    ],
    { f: { a: "x", note: "y" } },
  ),
  pair(
    "closed model: property removed",
    closed({ a: str, note: str }),
    closed({ a: str }),
    [
      [
        "/additionalProperties",
        `property 'note' is no longer allowed ("additionalProperties": false)`,
      ],
    ],
    ok,
    { b: { a: "x", note: "y" } },
  ),
  pair(
    "open model: property removed",
    obj({ a: str, note: str }),
    obj({ a: str }),
    ok,
    [
      [
        "",
        "property 'note' is gone: the new schema allows any value there (an open content model), but version 1 constrains it; add \"additionalProperties\": false",
      ],
    ],
    { f: { a: "x", note: 1 } },
  ),
  pair(
    "open model closed",
    obj({ a: str }),
    closed({ a: str }),
    [["/additionalProperties", "the content model is now closed"]],
    ok,
    { b: { a: "x", z: 1 } },
  ),
  pair(
    "closed model opened",
    closed({ a: str }),
    obj({ a: str }),
    ok,
    [["", "the new schema accepts properties it does not list (an open content model)"]],
    { f: { z: 1 } },
  ),
  pair(
    "closed model opened explicitly",
    closed({ a: str }),
    obj({ a: str }, { additionalProperties: true }),
    ok,
    [["/additionalProperties", "accepts properties it does not list"]],
    { f: { z: 1 } },
  ),
  pair(
    "additionalProperties schema widened",
    obj({}, { additionalProperties: str }),
    obj({}, { additionalProperties: { type: ["string", "number"] } }),
    ok,
    [["/additionalProperties/type", "type widened: the new schema accepts numbers"]],
    { f: { z: 1 } },
  ),
  pair(
    "additionalProperties constrained",
    obj({}, { additionalProperties: true }),
    obj({}, { additionalProperties: str }),
    [["/additionalProperties/type", "type narrowed"]],
    ok,
    { b: { z: 1 } },
  ),
  pair(
    "patternProperties: a matching property listed",
    closed({}, { patternProperties: { "^x-": str } }),
    closed({ "x-trace": str }, { patternProperties: { "^x-": str } }),
    ok,
    ok,
  ),
  pair(
    "patternProperties: a non-matching property added",
    closed({}, { patternProperties: { "^x-": str } }),
    closed({ note: str }, { patternProperties: { "^x-": str } }),
    ok,
    [["/properties/note", "property 'note' is new: version 1 does not allow it"]],
    { f: { note: "y" } },
  ),
  pair(
    "patternProperties: a matching property narrowed to nothing",
    closed({}, { patternProperties: { "^x-": str } }),
    closed({ "x-n": int }, { patternProperties: { "^x-": str } }),
    [["/properties/x-n/type", "type narrowed: version 1 accepts strings"]],
    ok,
    { b: { "x-n": "y" } },
  ),
  pair(
    "patternProperties schema narrowed",
    obj({}, { patternProperties: { "^x-": { type: ["string", "number"] } } }),
    obj({}, { patternProperties: { "^x-": str } }),
    [["/patternProperties/^x-/type", "type narrowed: version 1 accepts numbers"]],
    ok,
    { b: { "x-a": 1 } },
  ),
  pair(
    "patternProperties added to an open model",
    obj({ a: str }),
    obj({ a: str }, { patternProperties: { "^x-": str } }),
    [
      [
        "/patternProperties/^x-",
        `properties matching "^x-" are newly constrained: version 1 allowed any value for them (an open content model)`,
      ],
    ],
    ok,
    { b: { "x-a": 1 } },
  ),
  pair(
    "patternProperties: a second pattern of the same schema",
    closed({}, { patternProperties: { "^x-": str } }),
    closed({}, { patternProperties: { "^x-": str, "^y-": str } }),
    ok,
    [["/patternProperties/^y-", 'names matching "^y-" may also fall under additionalProperties']],
    { f: { "y-a": "z" } },
  ),
  pair(
    "patternProperties: a second pattern of another schema",
    closed({}, { patternProperties: { "^x-": str } }),
    closed({}, { patternProperties: { "^x-": str, "^y-": int } }),
    [
      [
        "/patternProperties/^y-",
        `cannot prove the change: names matching "^x-" may also fall under "^y-"`,
      ],
    ],
    [["/patternProperties/^y-", "may also fall under additionalProperties"]],
    { f: { "y-a": 1 } },
  ),
  pair(
    "patternProperties pattern rewritten",
    closed({}, { patternProperties: { "^x-": str } }),
    closed({}, { patternProperties: { "^x": str } }),
    [["/additionalProperties", `names matching "^x-" may also fall under additionalProperties`]],
    [["/patternProperties/^x", "may also fall under additionalProperties"]],
    { f: { xa: "z" } },
  ),
  pair(
    "property names that need escaping",
    obj({ "a/b": str, "m~n": int }),
    obj({ "a/b": { ...str, maxLength: 3 }, "m~n": num }),
    [["/properties/a~1b/maxLength", "maxLength 3 rejects strings"]],
    [["/properties/m~0n/type", "type widened"]],
    { b: { "a/b": "long" }, f: { "m~n": 0.5 } },
  ),

  // Nested objects.
  pair(
    "nested property narrowed three levels down",
    obj({ a: obj({ b: obj({ c: num }) }) }),
    obj({ a: obj({ b: obj({ c: int }) }) }),
    [
      [
        "/properties/a/properties/b/properties/c/type",
        "type narrowed: version 1 accepts non-integer numbers",
      ],
    ],
    ok,
    { b: { a: { b: { c: 0.5 } } } },
  ),
  pair(
    "nested required added",
    obj({ address: obj({ zip: str }) }),
    obj({ address: obj({ zip: str }, { required: ["zip"] }) }),
    [["/properties/address/required/0", "new required property 'zip'"]],
    ok,
    { b: { address: {} } },
  ),
  pair(
    "nested open model: property added",
    obj({ address: obj({ zip: str }) }),
    obj({ address: obj({ zip: str, city: str }) }),
    [
      [
        "/properties/address/properties/city",
        "property 'city' is new: version 1 allowed any value there",
      ],
    ],
    ok,
    { b: { address: { city: 1 } } },
  ),
  pair(
    "nested closed model: property removed",
    closed({ address: closed({ zip: str, city: str }) }),
    closed({ address: closed({ zip: str }) }),
    [["/properties/address/additionalProperties", "property 'city' is no longer allowed"]],
    ok,
    { b: { address: { city: "x" } } },
  ),
  pair(
    "array of objects: item property widened",
    obj({ lines: { type: "array", items: closed({ sku: str, qty: int }) } }),
    obj({ lines: { type: "array", items: closed({ sku: str, qty: num }) } }),
    ok,
    [["/properties/lines/items/properties/qty/type", "type widened"]],
    { f: { lines: [{ qty: 0.5 }] } },
  ),
  pair(
    "a property whose schema becomes false",
    obj({ a: str, b: str }),
    obj({ a: str, b: false }),
    [["/properties/b", "property 'b' is no longer allowed (its schema is false)"]],
    ok,
    { b: { b: "x" } },
  ),

  // Arrays.
  pair(
    "items widened",
    { type: "array", items: int },
    { type: "array", items: num },
    ok,
    [["/items/type", "type widened"]],
    { f: [0.5] },
  ),
  pair(
    "items narrowed",
    { type: "array", items: num },
    { type: "array", items: int },
    [["/items/type", "type narrowed"]],
    ok,
    { b: [0.5] },
  ),
  pair(
    "minItems added",
    { type: "array" },
    { type: "array", minItems: 1 },
    [["/minItems", "minItems 1 rejects arrays version 1 accepts"]],
    ok,
    { b: [] },
  ),
  pair(
    "maxItems removed",
    { type: "array", maxItems: 3 },
    { type: "array" },
    ok,
    [["", "(version 1: maxItems 3; the new schema: no upper bound)"]],
    { f: [1, 2, 3, 4] },
  ),
  pair(
    "uniqueItems added",
    { type: "array", items: str },
    { type: "array", items: str, uniqueItems: true },
    [["/uniqueItems", "uniqueItems is new: version 1 accepts arrays with repeated items"]],
    ok,
    { b: ["a", "a"] },
  ),
  pair(
    "uniqueItems added where at most one item fits",
    { type: "array", maxItems: 1 },
    { type: "array", maxItems: 1, uniqueItems: true },
    ok,
    ok,
  ),
  pair(
    "uniqueItems removed",
    { type: "array", uniqueItems: true },
    { type: "array" },
    ok,
    [["", "the new schema accepts arrays with repeated items"]],
    { f: [1, 1] },
  ),
  pair(
    "prefixItems narrows a position items allowed",
    { type: "array", items: num },
    { type: "array", prefixItems: [int], items: num },
    [["/prefixItems/0/type", "type narrowed: version 1 accepts non-integer numbers"]],
    ok,
    { b: [0.5] },
  ),
  pair(
    "prefixItems grows",
    { type: "array", prefixItems: [str] },
    { type: "array", prefixItems: [str, num] },
    [["/prefixItems/1/type", "type narrowed: version 1 accepts null"]],
    ok,
    { b: ["a", null] },
  ),
  pair(
    "tuple closed with items false",
    { type: "array", prefixItems: [str] },
    { type: "array", prefixItems: [str], items: false },
    [["/items", "arrays with more than 1 items are no longer accepted"]],
    ok,
    { b: ["a", 1] },
  ),
  pair(
    "tuple opened",
    { type: "array", prefixItems: [str], items: false },
    { type: "array", prefixItems: [str] },
    ok,
    [["", "the new schema accepts arrays with more than 1 items"]],
    { f: ["a", 1] },
  ),
  pair(
    "items false and maxItems agree",
    { type: "array", prefixItems: [str, int], items: false },
    { type: "array", prefixItems: [str, int], maxItems: 2 },
    ok,
    ok,
  ),
  pair(
    "contains added",
    { type: "array" },
    { type: "array", contains: int },
    [["/contains", `cannot prove "contains" accepts every value`]],
    ok,
    { b: [] },
  ),
  pair(
    "contains kept, items widened",
    { type: "array", items: int, contains: { const: 1 } },
    { type: "array", items: num, contains: { const: 1 } },
    ok,
    [["/items/type", "type widened"]],
    { f: [1, 0.5] },
  ),
  pair(
    "array of enums loses a value",
    { type: "array", items: { enum: ["a", "b"] } },
    { type: "array", items: { enum: ["a"] } },
    [["/items/enum", `value "b" is no longer accepted`]],
    ok,
    { b: ["b"] },
  ),

  // Local $ref and $defs.
  pair(
    "a shared $ref kept",
    { $defs: { m: closed({ amount: int }) }, ...obj({ price: { $ref: "#/$defs/m" } }) },
    {
      $defs: { m: closed({ amount: int }) },
      ...obj({ price: { $ref: "#/$defs/m" }, tax: { $ref: "#/$defs/m" } }),
    },
    [["/properties/tax", "property 'tax' is new: version 1 allowed any value there"]],
    ok,
    { b: { tax: 1 } },
  ),
  pair(
    "a $defs target narrowed",
    { $defs: { m: closed({ amount: num }) }, ...obj({ price: { $ref: "#/$defs/m" } }) },
    { $defs: { m: closed({ amount: int }) }, ...obj({ price: { $ref: "#/$defs/m" } }) },
    [["/$defs/m/properties/amount/type", "type narrowed"]],
    ok,
    { b: { price: { amount: 0.5 } } },
  ),
  pair(
    "inline to an equal $ref",
    obj({ name: str }),
    { $defs: { s: str }, ...obj({ name: { $ref: "#/$defs/s" } }) },
    ok,
    ok,
  ),
  pair(
    "a $ref to a renamed def",
    { $defs: { a: int }, ...obj({ n: { $ref: "#/$defs/a" } }) },
    { $defs: { b: num }, ...obj({ n: { $ref: "#/$defs/b" } }) },
    ok,
    [["/$defs/b/type", "type widened"]],
    { f: { n: 0.5 } },
  ),
  pair(
    "a recursive tree: leaves widened",
    {
      $defs: {
        node: obj({ value: int, children: { type: "array", items: { $ref: "#/$defs/node" } } }),
      },
      $ref: "#/$defs/node",
    },
    {
      $defs: {
        node: obj({ value: num, children: { type: "array", items: { $ref: "#/$defs/node" } } }),
      },
      $ref: "#/$defs/node",
    },
    ok,
    [["/$defs/node/properties/value/type", "type widened"]],
    { f: { children: [{ value: 0.5 }] } },
  ),
  pair(
    "a $ref with a sibling required",
    { $defs: { base: obj({ id: str }) }, $ref: "#/$defs/base" },
    { $defs: { base: obj({ id: str }) }, $ref: "#/$defs/base", required: ["id"] },
    [["/required/0", "new required property 'id'"]],
    ok,
    { b: {} },
  ),
  pair(
    "a non-local $ref",
    obj({ a: str }),
    obj({ a: { $ref: "https://example.com/a.json" } }),
    [["/properties/a/$ref", "is not a local JSON Pointer"]],
    [["/properties/a", "type widened"]],
  ),
  pair(
    "$ref escapes in pointers",
    { $defs: { "a/b": int }, ...obj({ n: { $ref: "#/$defs/a~1b" } }) },
    { $defs: { "a/b": num }, ...obj({ n: { $ref: "#/$defs/a~1b" } }) },
    ok,
    [["/$defs/a~1b/type", "type widened"]],
    { f: { n: 0.5 } },
  ),

  pair(
    "a $ref to an $anchor",
    { $defs: { m: { $anchor: "money", ...int } }, ...obj({ p: { $ref: "#money" } }) },
    { $defs: { m: { $anchor: "money", ...num } }, ...obj({ p: { $ref: "#money" } }) },
    ok,
    [["/$defs/m/type", "type widened"]],
    { f: { p: 0.5 } },
  ),
  // anyOf, oneOf, allOf.
  pair(
    "anyOf gains a branch",
    { anyOf: [str, int] },
    { anyOf: [str, int, { type: "null" }] },
    ok,
    [
      [
        "/anyOf/2",
        "no branch of version 1's anyOf is proven to accept every value the new schema accepts",
      ],
      ["/anyOf/2/type", "type widened"],
    ],
    { f: null },
  ),
  pair(
    "anyOf loses a branch",
    { anyOf: [str, int, { type: "null" }] },
    { anyOf: [str, int] },
    [
      ["/anyOf", "no branch of anyOf is proven to accept every value version 1 accepts here"],
      ["/anyOf/0/type", "type narrowed: version 1 accepts null"],
    ],
    ok,
    { b: null },
  ),
  pair(
    "anyOf to a type list",
    { anyOf: [str, { type: "null" }] },
    { type: ["string", "null"] },
    ok,
    ok,
  ),
  pair(
    "anyOf branch narrowed",
    { anyOf: [{ ...str, maxLength: 5 }, int] },
    { anyOf: [{ ...str, maxLength: 3 }, int] },
    [
      ["/anyOf", "no branch of anyOf"],
      ["/anyOf/0/maxLength", "maxLength 3"],
    ],
    ok,
    { b: "abcd" },
  ),
  pair(
    "oneOf gains a discriminated branch",
    { oneOf: kinds("a", "b") },
    { oneOf: kinds("a", "b", "c") },
    ok,
    [
      ["/oneOf/2", "no branch of version 1's oneOf"],
      ["/oneOf/2/properties/kind/const", `value "c" is new`],
    ],
    { f: { kind: "c" } },
  ),
  pair(
    "oneOf loses a discriminated branch",
    { oneOf: kinds("a", "b", "c") },
    { oneOf: kinds("a", "b") },
    [
      ["/oneOf", "no branch of oneOf"],
      ["/oneOf/0/properties/kind/const", `value "c" is no longer accepted`],
    ],
    ok,
    { b: { kind: "c" } },
  ),
  pair(
    "oneOf gains an overlapping branch",
    { oneOf: [str, int] },
    { oneOf: [str, int, num] },
    [
      [
        "/oneOf",
        "cannot prove exactly one branch of oneOf matches: values version 1 accepts here match branch 1 and may also match branch 2",
      ],
    ],
    [
      ["/oneOf/2", "no branch of version 1's oneOf"],
      ["/oneOf/2/type", "type widened"],
    ],
    { b: 1, f: 0.5 },
  ),
  pair("oneOf to anyOf over disjoint types", { oneOf: [str, int] }, { anyOf: [str, int] }, ok, ok),
  pair(
    "anyOf to oneOf over overlapping types",
    { anyOf: [num, int] },
    { oneOf: [num, int] },
    [["/oneOf", "cannot prove exactly one branch of oneOf matches"]],
    ok,
    { b: 1 },
  ),
  pair(
    "oneOf kept, a branch's property widened",
    {
      oneOf: [
        closed({ kind: { const: "a" }, v: int }, { required: ["kind"] }),
        closed({ kind: { const: "b" } }, { required: ["kind"] }),
      ],
    },
    {
      oneOf: [
        closed({ kind: { const: "a" }, v: num }, { required: ["kind"] }),
        closed({ kind: { const: "b" } }, { required: ["kind"] }),
      ],
    },
    ok,
    [
      ["/oneOf/0", "no branch of version 1's oneOf"],
      ["/oneOf/0/properties/v/type", "type widened"],
    ],
    { f: { kind: "a", v: 0.5 } },
  ),
  pair(
    "nullable $ref through oneOf",
    { $defs: { m: closed({ amount: int }) }, oneOf: [{ type: "null" }, { $ref: "#/$defs/m" }] },
    {
      $defs: { m: closed({ amount: int, currency: str }) },
      oneOf: [{ type: "null" }, { $ref: "#/$defs/m" }],
    },
    ok,
    [
      ["/oneOf/1", "no branch of version 1's oneOf"],
      ["/$defs/m/properties/currency", "property 'currency' is new: version 1 does not allow it"],
    ],
    { f: { currency: "EUR" } },
  ),
  pair(
    "allOf flattened",
    { allOf: [obj({ a: str }), { required: ["a"] }] },
    obj({ a: str }, { required: ["a"] }),
    ok,
    ok,
  ),
  pair(
    "allOf base narrowed",
    { $defs: { base: obj({ id: str }) }, allOf: [{ $ref: "#/$defs/base" }, obj({ n: int })] },
    {
      $defs: { base: obj({ id: { ...str, maxLength: 8 } }) },
      allOf: [{ $ref: "#/$defs/base" }, obj({ n: int })],
    },
    [["/$defs/base/properties/id/maxLength", "maxLength 8 rejects strings"]],
    ok,
    { b: { id: "123456789" } },
  ),
  pair(
    "allOf gains a member",
    obj({ a: str }),
    { allOf: [obj({ a: str }), { required: ["a"] }] },
    [["/allOf/1/required/0", "new required property 'a'"]],
    ok,
    { b: {} },
  ),

  // Keywords the checker does not model: unchanged passes, changed is unprovable.
  pair(
    "not added",
    str,
    { ...str, not: { const: "x" } },
    [["/not", `cannot prove "not" accepts every value`]],
    ok,
    { b: "x" },
  ),
  pair(
    "not kept",
    { ...str, not: { const: "x" } },
    { type: ["string", "null"], not: { const: "x" } },
    ok,
    [["/type", "type widened"]],
    { f: null },
  ),
  pair(
    "not removed",
    { ...str, not: { const: "x" } },
    str,
    ok,
    [["", `cannot prove version 1's "not"`]],
    { f: "x" },
  ),
  pair(
    "if/then/else added",
    obj({ a: str }),
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's own keyword
    obj({ a: str }, { if: { required: ["a"] }, then: { required: ["b"] } }),
    [["/if", `cannot prove "if" accepts every value`]],
    ok,
    { b: { a: "x" } },
  ),
  pair(
    "propertyNames added",
    { type: "object" },
    { type: "object", propertyNames: { maxLength: 3 } },
    [["/propertyNames", `cannot prove "propertyNames"`]],
    ok,
    { b: { long: 1 } },
  ),
  pair(
    "dependentSchemas added",
    { type: "object" },
    { type: "object", dependentSchemas: { a: { required: ["b"] } } },
    [["/dependentSchemas", `cannot prove "dependentSchemas"`]],
    ok,
    { b: { a: 1 } },
  ),
  pair(
    "unevaluatedProperties false added",
    obj({ a: str }),
    obj({ a: str }, { unevaluatedProperties: false }),
    [["/unevaluatedProperties", `cannot prove "unevaluatedProperties"`]],
    ok,
    { b: { z: 1 } },
  ),
  pair(
    "unevaluatedProperties kept, a property removed",
    obj({ a: str, b: str }, { unevaluatedProperties: false }),
    obj({ a: str }, { unevaluatedProperties: false }),
    [["/unevaluatedProperties", `cannot prove "unevaluatedProperties"`]],
    [
      ["/unevaluatedProperties", `cannot prove version 1's "unevaluatedProperties"`],
      ["", "property 'b' is gone"],
    ],
    { b: { b: "x" } },
  ),
  pair(
    "contains changed",
    { type: "array", contains: int },
    { type: "array", contains: num },
    [["/contains", `cannot prove "contains"`]],
    [["/contains", `cannot prove version 1's "contains"`]],
    { f: [0.5] },
  ),

  // Whole event schemas.
  pair(
    "order: optional currency value added",
    order,
    closed(
      { id: str, total: int, currency: { enum: ["EUR", "USD", "GBP"] } },
      { required: ["id", "total"] },
    ),
    ok,
    [["/properties/currency/enum/2", `value "GBP" is new`]],
    { f: { id: "1", total: 1, currency: "GBP" } },
  ),
  pair(
    "order: total becomes a number",
    order,
    closed(
      { id: str, total: num, currency: { enum: ["EUR", "USD"] } },
      { required: ["id", "total"] },
    ),
    ok,
    [["/properties/total/type", "type widened"]],
    { f: { id: "1", total: 0.5 } },
  ),
  pair(
    "order: id loses required",
    order,
    closed({ id: str, total: int, currency: { enum: ["EUR", "USD"] } }, { required: ["total"] }),
    ok,
    [["/required", "property 'id' is no longer required"]],
    { f: { total: 1 } },
  ),
  pair(
    "order: a nullable note added",
    order,
    closed(
      {
        id: str,
        total: int,
        currency: { enum: ["EUR", "USD"] },
        note: { type: ["string", "null"] },
      },
      { required: ["id", "total"] },
    ),
    ok,
    [["/properties/note", "property 'note' is new: version 1 does not allow it"]],
    { f: { id: "1", total: 1, note: null } },
  ),
];

/** Multi-version histories, for the transitive modes: `expect` per mode, problems pointing into `candidate`. */
export interface HistoryCase {
  readonly name: string;
  readonly history: readonly JsonSchema[];
  readonly candidate: JsonSchema;
  readonly expect: Partial<
    Record<
      | "BACKWARD"
      | "FORWARD"
      | "FULL"
      | "BACKWARD_TRANSITIVE"
      | "FORWARD_TRANSITIVE"
      | "FULL_TRANSITIVE",
      readonly Break[]
    >
  >;
}

const v1Open = obj({ id: str });
const v2Closed = closed({ id: str });
const amountInt = closed({ amount: int });
const amountNum = closed({ amount: num });
const amountBounded = closed({ amount: { ...num, minimum: 0 } });

export const HISTORIES: readonly HistoryCase[] = [
  {
    name: "a property narrowed twice: each step is BACKWARD-checked only against its predecessor",
    history: [
      closed({ n: { type: ["integer", "string"] } }),
      closed({ n: { type: ["integer", "string"] }, m: int }),
    ],
    candidate: closed({ n: int, m: int }),
    expect: {
      BACKWARD: [["/properties/n/type", "version 2 accepts strings"]],
      BACKWARD_TRANSITIVE: [
        ["/properties/n/type", "version 1 accepts strings"],
        ["/properties/n/type", "version 2 accepts strings"],
      ],
    },
  },
  {
    name: "widened step by step: FORWARD sees only the latest",
    history: [amountInt, amountNum],
    candidate: amountNum,
    expect: {
      FORWARD: [],
      FORWARD_TRANSITIVE: [
        [
          "/properties/amount/type",
          "the new schema accepts non-integer numbers; version 1 does not",
        ],
      ],
      BACKWARD_TRANSITIVE: [],
    },
  },
  {
    name: "a bound added then relaxed back",
    history: [amountNum, amountBounded],
    candidate: amountNum,
    expect: {
      BACKWARD: [],
      BACKWARD_TRANSITIVE: [],
      FORWARD: [["/properties/amount", "version 2: minimum 0; the new schema: no lower bound"]],
      FORWARD_TRANSITIVE: [["/properties/amount", "version 2: minimum 0"]],
      FULL_TRANSITIVE: [["/properties/amount", "version 2: minimum 0"]],
    },
  },
  {
    name: "an open first version keeps constraining every later property",
    history: [v1Open, v1Open],
    candidate: obj({ id: str, note: str }),
    expect: {
      BACKWARD: [["/properties/note", "version 2 allowed any value there (an open content model)"]],
      BACKWARD_TRANSITIVE: [
        ["/properties/note", "version 1 allowed any value there"],
        ["/properties/note", "version 2 allowed any value there"],
      ],
    },
  },
  {
    name: "closing an open model is a BACKWARD break against every open version",
    history: [v1Open, obj({ id: str, n: int })],
    candidate: v2Closed,
    expect: {
      BACKWARD: [
        ["/additionalProperties", "property 'n' is no longer allowed"],
        ["/additionalProperties", "now closed"],
      ],
      BACKWARD_TRANSITIVE: [
        ["/additionalProperties", "events valid under version 1 may carry properties"],
        ["/additionalProperties", "property 'n' is no longer allowed"],
      ],
      FORWARD_TRANSITIVE: [],
    },
  },
  {
    name: "a value dropped from an enum two versions ago",
    history: [{ enum: ["a", "b", "c"] }, { enum: ["a", "b"] }, { enum: ["a", "b"] }],
    candidate: { enum: ["a", "b"] },
    expect: {
      BACKWARD: [],
      FULL: [],
      BACKWARD_TRANSITIVE: [
        [
          "/enum",
          `value "c" is no longer accepted (not one of the enum values): events valid under version 1`,
        ],
      ],
      FORWARD_TRANSITIVE: [],
      FULL_TRANSITIVE: [["/enum", "version 1"]],
    },
  },
  {
    name: "a required property added in version 2 and dropped again",
    history: [obj({ a: str }), obj({ a: str }, { required: ["a"] })],
    candidate: obj({ a: str }),
    expect: {
      BACKWARD: [],
      BACKWARD_TRANSITIVE: [],
      FORWARD: [
        [
          "",
          "property 'a' is no longer required: events valid under the new schema may lack it, and version 2 requires it",
        ],
      ],
      FORWARD_TRANSITIVE: [["", "version 2 requires it"]],
    },
  },
  {
    name: "three compatible steps",
    history: [
      closed({ a: str }),
      closed({ a: str, b: int }),
      closed({ a: str, b: int, c: { type: "boolean" } }),
    ],
    candidate: closed({ a: str, b: int, c: { type: "boolean" }, d: { type: "null" } }),
    expect: {
      BACKWARD: [],
      BACKWARD_TRANSITIVE: [],
      FORWARD: [["/properties/d", "version 3 does not allow it"]],
    },
  },
  {
    name: "FULL_TRANSITIVE: each version differs only in annotations",
    history: [
      { ...str, title: "a" },
      { ...str, title: "b" },
      { ...str, description: "c" },
    ],
    candidate: { ...str, title: "d" },
    expect: { FULL_TRANSITIVE: [], FULL: [] },
  },
  {
    name: "FULL_TRANSITIVE: widened against version 1 and narrowed against version 2",
    history: [
      { ...int, maximum: 5 },
      { ...int, maximum: 20 },
    ],
    candidate: { ...int, maximum: 10 },
    expect: {
      FULL: [["/maximum", "maximum 10 rejects integers version 2 accepts"]],
      FULL_TRANSITIVE: [
        ["/maximum", "(version 1: maximum 5; the new schema: maximum 10)"],
        ["/maximum", "maximum 10 rejects integers version 2 accepts"],
      ],
    },
  },
];
