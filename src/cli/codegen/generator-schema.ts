/**
 * A registered JSON Schema 2020-12 document rewritten into what json-schema-to-typescript
 * reads (a draft-04 reader), placed at `base` inside the one schema the generator compiles:
 * local `$ref`s are re-rooted there, `prefixItems` becomes draft-04 tuple `items`, boolean
 * subschemas become objects, and the generator's own keywords are dropped, so a registered
 * schema cannot write TypeScript of its choosing into the file (`tsType`), nor close a doc
 * comment early (`*\/` in a description). What it cannot express (anchors, `$dynamicRef`,
 * `if`/`then`) loosens the type rather than narrowing it wrongly.
 */

import {
  SUBSCHEMA_KEYWORDS,
  SUBSCHEMA_LIST_KEYWORDS,
  SUBSCHEMA_MAP_KEYWORDS,
} from "../../core/json-schema-keywords.js";

type JsonObject = { [keyword: string]: unknown };

/** Keywords json-schema-to-typescript acts on that are not JSON Schema's, or name things oddly. */
const DROPPED = new Set([
  "tsType",
  "tsEnumNames",
  "$id",
  "id",
  "$anchor",
  "$dynamicAnchor",
  "$dynamicRef",
  "$schema",
]);
const SCHEMA_MAPS = new Set(SUBSCHEMA_MAP_KEYWORDS);
const SCHEMA_ARRAYS = new Set(SUBSCHEMA_LIST_KEYWORDS);
const SCHEMA_VALUES = new Set(SUBSCHEMA_KEYWORDS);
/** Where json-schema-to-typescript reads a boolean itself. */
const BOOLEAN_OK = new Set(["additionalProperties", "additionalItems"]);

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `true` accepts anything (`unknown`); `false` nothing (`never`). */
function booleanSchema(value: boolean): JsonObject {
  return { tsType: value ? "unknown" : "never" };
}

function rebaseRef(ref: unknown, base: string): string | undefined {
  if (typeof ref !== "string") return undefined;
  if (ref === "#") return `#${base}`;
  if (ref.startsWith("#/")) return `#${base}${ref.slice(1)}`;
  return undefined; // an anchor (`#name`): not a pointer the generator can follow
}

function convertMap(value: unknown, base: string): unknown {
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [name, schema] of Object.entries(value)) out[name] = convert(schema, base);
  return out;
}

function convertKeyword(keyword: string, value: unknown, base: string): unknown {
  if (SCHEMA_MAPS.has(keyword)) return convertMap(value, base);
  if (SCHEMA_ARRAYS.has(keyword) && Array.isArray(value))
    return value.map((schema) => convert(schema, base));
  if (SCHEMA_VALUES.has(keyword)) {
    if (typeof value === "boolean" && BOOLEAN_OK.has(keyword)) return value;
    return convert(value, base);
  }
  if (keyword === "description" && typeof value === "string") return value.replaceAll("*/", "* /");
  return value;
}

/** 2020-12 tuples (`prefixItems` + `items` for the rest) as draft-04 (`items` array + `additionalItems`). */
function convertTuple(schema: JsonObject, out: JsonObject, base: string): void {
  const prefix = schema.prefixItems;
  if (!Array.isArray(prefix)) return;
  out.items = prefix.map((item) => convert(item, base));
  const rest = schema.items;
  out.additionalItems =
    rest === undefined || typeof rest === "boolean" ? (rest ?? true) : convert(rest, base);
}

/** `base`: where the type's root sits in the compiled schema, e.g. `/properties/order.placed`. */
function convert(schema: unknown, base: string): unknown {
  if (typeof schema === "boolean") return booleanSchema(schema);
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (DROPPED.has(keyword) || keyword === "prefixItems") continue;
    if (keyword === "$ref") {
      const ref = rebaseRef(value, base);
      if (ref !== undefined) out.$ref = ref;
      continue;
    }
    out[keyword] = convertKeyword(keyword, value, base);
  }
  convertTuple(schema, out, base);
  return out;
}

/** `schema` as the generator reads it, when it sits at JSON Pointer `base` of the compiled root. */
export function toGeneratorSchema(schema: unknown, base: string): JsonObject {
  const converted = convert(schema, base);
  return isObject(converted) ? converted : {};
}
