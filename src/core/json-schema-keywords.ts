/**
 * Where a JSON Schema document holds subschemas: 2020-12's keywords, plus the draft-era
 * `additionalItems` and `definitions` a user may still send. One list for the registry's
 * guard, the compatibility checker and codegen, so none of them misses a place a subschema
 * can hide.
 */

/** Keywords whose value is one subschema. */
export const SUBSCHEMA_KEYWORDS: readonly string[] = [
  "items",
  "additionalItems",
  "additionalProperties",
  "unevaluatedItems",
  "unevaluatedProperties",
  "propertyNames",
  "contains",
  "not",
  "if",
  "then",
  "else",
  "contentSchema",
];

/** Keywords whose value maps names to subschemas. */
export const SUBSCHEMA_MAP_KEYWORDS: readonly string[] = [
  "properties",
  "patternProperties",
  "$defs",
  "definitions",
  "dependentSchemas",
];

/** Keywords whose value is an array of subschemas. */
export const SUBSCHEMA_LIST_KEYWORDS: readonly string[] = [
  "prefixItems",
  "allOf",
  "anyOf",
  "oneOf",
];
