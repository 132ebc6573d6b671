/**
 * Schema discovery: a JSON Schema 2020-12 proposal from sample `data` values. Pure and
 * streaming — `add` folds one sample into a summary of shapes and forgets it, so the memory
 * held is the summary's, not the samples'. The proposal is the tightest schema a reviewer
 * would plausibly register: every sample validates under it (the property test in
 * `infer.test.ts` holds it to that), objects are closed (`additionalProperties: false`),
 * and a property is `required` where every object at its place has it.
 */
import { isDateTime } from "./date-time.js";
import type { JsonSchema } from "./types.js";

export const SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

/**
 * When the strings at one place become an `enum`: a small closed set, seen often enough to
 * believe it is closed. At least `minSamples` strings there, at most `maxValues` distinct
 * ones, each seen at least `minRepeats` times (a value seen once suggests an open set: ids,
 * names, free text). Numbers and booleans never become enums.
 */
export const ENUM_RULE = { minSamples: 20, maxValues: 10, minRepeats: 2 } as const;

/**
 * The registry refuses schemas nested deeper than 32 levels (API.md "Schemas"), counting
 * every JSON object and array of the schema document, the root being 1. Data nested so deep
 * that its schema would not fit is proposed as `{}` there, with a `$comment` saying so.
 */
export const MAX_SCHEMA_DEPTH = 32;

/**
 * An object place with more distinct property names than this is a map (ids as keys, say):
 * proposed as `additionalProperties: <the values' schema>`, which keeps the proposal small and
 * the summary's memory bounded however many keys the samples hold.
 */
export const MAX_PROPERTIES = 200;

// A place's schema at depth d holds `properties` at d + 1 and property schemas at d + 2,
// which are full themselves or truncated (an object of strings): d + 2 must fit.
const FULL_DEPTH_LIMIT = MAX_SCHEMA_DEPTH - 2;

type Kind = "object" | "array" | "string" | "integer" | "number" | "boolean" | "null";

/** The order kinds appear in a `type` array. */
const KIND_ORDER: readonly Kind[] = [
  "object",
  "array",
  "string",
  "integer",
  "number",
  "boolean",
  "null",
];

interface Property {
  present: number;
  readonly shape: Shape;
}

/** What the values at one place of the data looked like, summed over every sample. */
class Shape {
  readonly #depth: number;
  readonly #kinds = new Set<Kind>();
  #strings = 0;
  #dateTimes = 0;
  /** Distinct strings with their counts; null once there are more than an enum may hold. */
  #values: Map<string, number> | null = new Map();
  #objects = 0;
  readonly #properties = new Map<string, Property>();
  /** The values' shape once this place is a map (see MAX_PROPERTIES). */
  #map: Shape | null = null;
  #items: Shape | null = null;
  /** Folded in a shape too deep to summarise (a map's values): nothing can be said. */
  #opaque = false;

  constructor(depth: number) {
    this.#depth = depth;
  }

  get truncated(): boolean {
    return this.#opaque || this.#depth > FULL_DEPTH_LIMIT;
  }

  add(value: unknown): void {
    if (this.truncated) return;
    if (value === null) this.#kinds.add("null");
    else if (typeof value === "boolean") this.#kinds.add("boolean");
    else if (typeof value === "number")
      this.#kinds.add(Number.isInteger(value) ? "integer" : "number");
    else if (typeof value === "string") this.#addString(value);
    else if (Array.isArray(value)) this.#addArray(value);
    else if (typeof value === "object") this.#addObject(value as Record<string, unknown>);
  }

  #addString(value: string): void {
    this.#kinds.add("string");
    this.#strings++;
    if (isDateTime(value)) this.#dateTimes++;
    if (this.#values === null) return;
    this.#values.set(value, (this.#values.get(value) ?? 0) + 1);
    if (this.#values.size > ENUM_RULE.maxValues) this.#values = null;
  }

  #addArray(value: readonly unknown[]): void {
    this.#kinds.add("array");
    if (value.length === 0) return;
    this.#items ??= new Shape(this.#depth + 1);
    for (const item of value) this.#items.add(item);
  }

  #addObject(value: Record<string, unknown>): void {
    this.#kinds.add("object");
    this.#objects++;
    for (const name of Object.keys(value)) {
      if (this.#map !== null) {
        this.#map.add(value[name]);
        continue;
      }
      const property = this.#property(name);
      property.present++;
      property.shape.add(value[name]);
    }
    if (this.#map === null && this.#properties.size > MAX_PROPERTIES) this.#becomeMap();
  }

  #property(name: string): Property {
    let property = this.#properties.get(name);
    if (property === undefined) {
      property = { present: 0, shape: new Shape(this.#depth + 2) };
      this.#properties.set(name, property);
    }
    return property;
  }

  #becomeMap(): Shape {
    const map = new Shape(this.#depth + 1);
    for (const property of this.#properties.values()) map.#merge(property.shape);
    this.#properties.clear();
    this.#map = map;
    return map;
  }

  /** Folds `other`'s summary into this one (a map's values: every property's shape). */
  #merge(other: Shape): void {
    if (this.truncated) return;
    if (other.truncated) {
      this.#opaque = true;
      return;
    }
    for (const kind of other.#kinds) this.#kinds.add(kind);
    this.#strings += other.#strings;
    this.#dateTimes += other.#dateTimes;
    this.#mergeValues(other.#values);
    this.#objects += other.#objects;
    for (const [name, property] of other.#properties) {
      if (this.#map !== null) this.#map.#merge(property.shape);
      else {
        const own = this.#property(name);
        own.present += property.present;
        own.shape.#merge(property.shape);
      }
    }
    // A map folded into a record makes it a map: its names are values, not a record's.
    if (other.#map !== null) (this.#map ?? this.#becomeMap()).#merge(other.#map);
    if (this.#map === null && this.#properties.size > MAX_PROPERTIES) this.#becomeMap();
    if (other.#items !== null) {
      this.#items ??= new Shape(this.#depth + 1);
      this.#items.#merge(other.#items);
    }
  }

  #mergeValues(values: ReadonlyMap<string, number> | null): void {
    if (this.#values === null) return;
    if (values === null) {
      this.#values = null;
      return;
    }
    for (const [value, count] of values)
      this.#values.set(value, (this.#values.get(value) ?? 0) + count);
    if (this.#values.size > ENUM_RULE.maxValues) this.#values = null;
  }

  schema(): Record<string, unknown> {
    if (this.truncated)
      return { $comment: `not inferred: nested deeper than ${MAX_SCHEMA_DEPTH} schema levels` };
    const kinds = this.#typeList();
    const schema: Record<string, unknown> = { type: kinds.length === 1 ? kinds[0] : kinds };
    if (this.#kinds.has("object")) Object.assign(schema, this.#objectKeywords());
    if (this.#kinds.has("array")) schema.items = this.#items?.schema() ?? {};
    if (this.#kinds.has("string")) Object.assign(schema, this.#stringKeywords(kinds));
    return schema;
  }

  /** integer and number widen to number. */
  #typeList(): Kind[] {
    const widen = this.#kinds.has("number");
    return KIND_ORDER.filter((kind) => this.#kinds.has(kind) && !(widen && kind === "integer"));
  }

  #objectKeywords(): Record<string, unknown> {
    if (this.#map !== null) return { additionalProperties: this.#map.schema() };
    const properties: [string, unknown][] = [];
    const patterns: [string, unknown][] = [];
    const required: string[] = [];
    for (const [name, property] of this.#properties) {
      // Ajv (the registry's validator) ignores a `properties` entry named __proto__, for
      // safety; a pattern reaches it, so the closed model still accepts the samples.
      if (name === "__proto__") patterns.push(["^__proto__$", property.shape.schema()]);
      else properties.push([name, property.shape.schema()]);
      if (property.present === this.#objects) required.push(name);
    }
    return {
      ...(properties.length === 0 ? {} : { properties: Object.fromEntries(properties) }),
      ...(patterns.length === 0 ? {} : { patternProperties: Object.fromEntries(patterns) }),
      ...(required.length === 0 ? {} : { required }),
      additionalProperties: false,
    };
  }

  /** `enum` only where it cannot reject a sample of another kind (null is added to it). */
  #stringKeywords(kinds: readonly Kind[]): Record<string, unknown> {
    const values = this.#enumValues();
    if (values !== undefined && kinds.every((kind) => kind === "string" || kind === "null"))
      return { enum: kinds.includes("null") ? [...values, null] : values };
    return this.#dateTimes === this.#strings ? { format: "date-time" } : {};
  }

  #enumValues(): string[] | undefined {
    const values = this.#values;
    if (values === null || this.#strings < ENUM_RULE.minSamples) return undefined;
    for (const count of values.values()) if (count < ENUM_RULE.minRepeats) return undefined;
    return [...values.keys()].sort();
  }
}

/** Folds samples into a proposal; `schema()` may be called at any point. */
export class SchemaInference {
  readonly #root = new Shape(1);
  #samples = 0;

  /** `data` is a parsed JSON value. */
  add(data: unknown): void {
    this.#root.add(data);
    this.#samples++;
  }

  get samples(): number {
    return this.#samples;
  }

  /** The proposal; `false` (nothing is valid) before any sample, as nothing was seen. */
  schema(): JsonSchema {
    if (this.#samples === 0) return false;
    return { $schema: SCHEMA_DIALECT, ...this.#root.schema() };
  }
}

/** The proposal for a list of samples (see `SchemaInference`). */
export function inferSchema(samples: Iterable<unknown>): JsonSchema {
  const inference = new SchemaInference();
  for (const sample of samples) inference.add(sample);
  return inference.schema();
}
