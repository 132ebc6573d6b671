import {
  SUBSCHEMA_KEYWORDS as ONE_SCHEMA,
  SUBSCHEMA_LIST_KEYWORDS as SCHEMA_LIST,
  SUBSCHEMA_MAP_KEYWORDS as SCHEMA_MAP,
} from "../../core/json-schema-keywords.js";
import type { JsonSchema } from "./types.js";

/**
 * Visits every subschema of a JSON Schema 2020-12 document with its JSON Pointer, and only
 * subschemas: values under `const`, `enum`, `default` or `examples` are data, so a
 * `"pattern"` or `"$ref"` inside them is never mistaken for a keyword.
 */

export type SchemaObject = { readonly [keyword: string]: unknown };

/** RFC 6901 escaping of one reference token. */
export function pointerToken(token: string): string {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

export function isSchemaObject(value: unknown): value is SchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function walkSchema(
  schema: JsonSchema,
  visit: (node: SchemaObject, pointer: string) => void,
): void {
  const stack: { node: unknown; pointer: string }[] = [{ node: schema, pointer: "" }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, pointer } = item;
    if (!isSchemaObject(node)) continue;
    visit(node, pointer);
    for (const key of ONE_SCHEMA) {
      if (key in node) stack.push({ node: node[key], pointer: `${pointer}/${key}` });
    }
    for (const key of SCHEMA_MAP) {
      const map = node[key];
      if (!isSchemaObject(map)) continue;
      for (const [name, sub] of Object.entries(map)) {
        stack.push({ node: sub, pointer: `${pointer}/${key}/${pointerToken(name)}` });
      }
    }
    for (const key of SCHEMA_LIST) {
      const list = node[key];
      if (!Array.isArray(list)) continue;
      for (const [i, sub] of list.entries()) {
        stack.push({ node: sub, pointer: `${pointer}/${key}/${i}` });
      }
    }
  }
}

/** The pointer of the first container nested deeper than `maxDepth` (root is depth 1), if any. */
export function tooDeep(value: unknown, maxDepth: number): string | undefined {
  const stack: { node: unknown; pointer: string; depth: number }[] = [
    { node: value, pointer: "", depth: 1 },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, pointer, depth } = item;
    if (typeof node !== "object" || node === null) continue;
    if (depth > maxDepth) return pointer;
    for (const [key, child] of Object.entries(node)) {
      stack.push({ node: child, pointer: `${pointer}/${pointerToken(key)}`, depth: depth + 1 });
    }
  }
  return undefined;
}
