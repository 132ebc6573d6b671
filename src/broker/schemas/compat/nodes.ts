import {
  SUBSCHEMA_KEYWORDS,
  SUBSCHEMA_LIST_KEYWORDS,
  SUBSCHEMA_MAP_KEYWORDS,
} from "../../../core/json-schema-keywords.js";
import type { JsonSchema } from "../types.js";
import { child, isObject, jsonEqual, type SchemaObject, walkPointer } from "./json.js";

/** One schema document being compared, named as messages name it ("version 3"). */
export interface Doc {
  readonly root: JsonSchema;
  readonly name: string;
}

/** A subschema, the document it sits in and where (a JSON Pointer into that document). */
export interface Node {
  readonly schema: JsonSchema;
  readonly doc: Doc;
  readonly ptr: string;
  /** True when the keyword is absent and `true` stands in for it; `ptr` is then the object lacking it. */
  readonly implicit?: boolean;
}

/** Keywords that assert nothing (2020-12 annotations, identifiers, containers). */
export const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "$anchor",
  "$dynamicAnchor",
  "$vocabulary",
  "$comment",
  "$defs",
  "definitions",
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "contentEncoding",
  "contentMediaType",
  "contentSchema",
]);

/** In-place applicators the checker expands itself, on either side. */
export const COMBINATORS = new Set(["$ref", "allOf", "anyOf", "oneOf"]);

export function implicitTrue(parent: Node): Node {
  return { schema: true, doc: parent.doc, ptr: parent.ptr, implicit: true };
}

export function at(parent: Node, schema: unknown, ptr: string): Node {
  return { schema: asSchema(schema), doc: parent.doc, ptr };
}

/** A malformed subschema is read as `true`-like object content; registration refuses such schemas anyway. */
function asSchema(value: unknown): JsonSchema {
  if (typeof value === "boolean" || isObject(value)) return value;
  return {};
}

/** Accepts every instance, by its keywords alone. */
export function isTrivial(schema: JsonSchema): boolean {
  if (schema === true) return true;
  if (schema === false) return false;
  return Object.keys(schema).every((key) => ANNOTATIONS.has(key));
}

export function keywords(node: Node): SchemaObject {
  return isObject(node.schema) ? node.schema : {};
}

/** Resolves a local `$ref` ("#" or "#/json/pointer") within the node's own document. */
export function resolveRef(node: Node, ref: unknown): Node | undefined {
  if (typeof ref !== "string" || !ref.startsWith("#")) return undefined;
  let pointer: string | undefined;
  try {
    pointer = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  // "#name" names a `$anchor`; "#" and "#/…" are JSON Pointers.
  if (pointer !== "" && !pointer.startsWith("/")) pointer = anchorPointer(node.doc.root, pointer);
  if (pointer === undefined) return undefined;
  const target = walkPointer(node.doc.root, pointer);
  if (!target.found || (typeof target.value !== "boolean" && !isObject(target.value))) {
    return undefined;
  }
  return { schema: target.value, doc: node.doc, ptr: pointer };
}

/**
 * Whether two subschemas (of possibly different documents) mean the same: equal JSON, with
 * every `$ref` leading to equal targets. Anything whose meaning depends on context the
 * checker does not follow (`$dynamicRef`, a nested `$id`, unresolvable refs) is never equal.
 */
export function sameSchema(a: Node, b: Node): boolean {
  return equalIn(assertions(a.schema), assertions(b.schema), a, b, new Set());
}

/** Keywords that only annotate: they never change what a schema accepts or what a `$ref` means. */
const NOTES = new Set([
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "$comment",
]);

/** The schema without its own annotations (nested ones are compared as they are). */
function assertions(schema: JsonSchema): unknown {
  if (!isObject(schema)) return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !NOTES.has(key)));
}

/** `sameSchema` for keyword values `x` (of `a`) and `y` (of `b`). */
export function sameValue(x: unknown, a: Node, y: unknown, b: Node): boolean {
  return equalIn(x, y, a, b, new Set());
}

function equalIn(x: unknown, y: unknown, a: Node, b: Node, seen: Set<string>): boolean {
  if (Array.isArray(x)) {
    return (
      Array.isArray(y) && x.length === y.length && x.every((v, i) => equalIn(v, y[i], a, b, seen))
    );
  }
  if (!isObject(x) || !isObject(y)) return jsonEqual(x, y);
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(y, key)) return false;
    if (key === "$dynamicRef" || key === "$recursiveRef" || key === "$id") return false;
    if (key === "$ref" && typeof x[key] === "string") {
      if (x[key] !== y[key] || !sameTargets(a, b, x[key], seen)) return false;
    } else if (!equalIn(x[key], y[key], a, b, seen)) return false;
  }
  return true;
}

function sameTargets(a: Node, b: Node, ref: string, seen: Set<string>): boolean {
  const ta = resolveRef(a, ref);
  const tb = resolveRef(b, ref);
  // The same non-local reference means the same schema when both resolve it from the same base.
  if (ta === undefined && tb === undefined) return !ref.startsWith("#") && sameBase(a.doc, b.doc);
  if (ta === undefined || tb === undefined) return false;
  const key = `${ta.ptr}\u0000${tb.ptr}`;
  if (seen.has(key)) return true; // co-inductive: the pair is being compared further up
  seen.add(key);
  return equalIn(ta.schema, tb.schema, ta, tb, seen);
}

function sameBase(a: Doc, b: Doc): boolean {
  const id = (doc: Doc): unknown => (isObject(doc.root) ? doc.root.$id : undefined);
  return jsonEqual(id(a), id(b));
}

/** The subschemas directly inside `schema`, with their pointers. */
function subschemas(schema: SchemaObject, ptr: string): [unknown, string][] {
  const out: [unknown, string][] = [];
  for (const key of SUBSCHEMA_KEYWORDS) if (key in schema) out.push([schema[key], child(ptr, key)]);
  for (const key of SUBSCHEMA_MAP_KEYWORDS) {
    const map = schema[key];
    if (isObject(map))
      for (const [name, sub] of Object.entries(map)) out.push([sub, child(ptr, key, name)]);
  }
  for (const key of SUBSCHEMA_LIST_KEYWORDS) {
    const list = schema[key];
    if (Array.isArray(list))
      for (const [i, sub] of list.entries()) out.push([sub, child(ptr, key, i)]);
  }
  return out;
}

/** The pointer of the first subschema (depth first, the root included) that `test` picks. */
function findSchema(
  schema: unknown,
  test: (s: SchemaObject, ptr: string) => boolean,
  ptr = "",
  depth = 0,
): string | undefined {
  if (!isObject(schema) || depth > 64) return undefined;
  if (test(schema, ptr)) return ptr;
  for (const [sub, at] of subschemas(schema, ptr)) {
    const hit = findSchema(sub, test, at, depth + 1);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** The pointer of the first nested `$id` (which would change what `$ref`s mean), if any. */
export function nestedId(root: unknown): string | undefined {
  const at = findSchema(root, (s, ptr) => ptr !== "" && "$id" in s);
  return at === undefined ? undefined : `${at}/$id`;
}

/** The pointer of the subschema declaring `"$anchor": name`. */
function anchorPointer(root: unknown, name: string): string | undefined {
  return findSchema(root, (s) => s.$anchor === name);
}
