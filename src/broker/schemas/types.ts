/**
 * The shapes the schema rooms share: the registry (`registry.ts`), the compatibility
 * checker (`compatibility.ts`), the Ajv cache (`validators.ts`) and the publish pipeline.
 */

/** A JSON Schema 2020-12 document (booleans are schemas too). */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

export const COMPATIBILITY_MODES = [
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
  "NONE",
] as const;

export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];

export const DEFAULT_COMPATIBILITY: CompatibilityMode = "BACKWARD";

/** One reason a schema change breaks the mode: `pointer` is a JSON Pointer into the new schema. */
export interface SchemaProblem {
  readonly pointer: string;
  readonly message: string;
}

export interface CompatibilityResult {
  readonly compatible: boolean;
  readonly errors: readonly SchemaProblem[];
}

/** What a validator says of one event's `data`: pointers relative to `data` ("" is its root). */
export type DataViolation = SchemaProblem;

/** A compiled version of one type's schema, as the publish hot path uses it. */
export interface CompiledSchema {
  readonly type: string;
  readonly version: number;
  /** Empty when `data` is valid. */
  validate(data: unknown): readonly DataViolation[];
}

/**
 * The node's view of the registry, served from memory (kept current by a Catalog watch),
 * so a publish never waits on the store. Both methods throw `engine_unavailable` (503) while
 * that view is more than 5 s stale (the store unreachable), as the key view does.
 */
export interface SchemaLookup {
  /** The latest version of `type`, or undefined when the type has none. */
  latest(type: string): CompiledSchema | undefined;
  /** One version of `type`, or undefined when it does not exist. */
  version(type: string, version: number): CompiledSchema | undefined;
}
