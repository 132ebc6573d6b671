import { child, isObject, jsonEqual, kindOf, kindsOfType, patternMatches, show } from "./json.js";
import { ANNOTATIONS, at, keywords, type Node, resolveRef } from "./nodes.js";

/**
 * Why one concrete value fails a schema. `certain` is false when the checker could not
 * decide (a `format`, an unknown keyword): such a value may or may not be accepted.
 */
export interface Failure {
  readonly ptr: string;
  readonly reason: string;
  readonly certain: boolean;
}

const MAX_DEPTH = 64;

/** Evaluates `node` on `value` (empty = accepted); keywords in `skip` are left out at this level. */
export function valueFailures(
  value: unknown,
  node: Node,
  skip: ReadonlySet<string> = new Set(),
  depth = 0,
): Failure[] {
  if (node.schema === true) return [];
  if (node.schema === false) return [fail(node.ptr, "false accepts nothing")];
  if (depth > MAX_DEPTH) return [unsure(node.ptr, "$ref nesting too deep to evaluate")];
  const s = keywords(node);
  const out: Failure[] = [];
  for (const key of Object.keys(s)) {
    if (skip.has(key) || ANNOTATIONS.has(key)) continue;
    out.push(...keyword(key, value, node, depth));
  }
  return out;
}

/** True when the value certainly fails (some failure is certain). */
export function certainlyRejects(value: unknown, node: Node): boolean {
  return valueFailures(value, node).some((f) => f.certain);
}

function fail(ptr: string, reason: string): Failure {
  return { ptr, reason, certain: true };
}

function unsure(ptr: string, reason: string): Failure {
  return { ptr, reason, certain: false };
}

type Check = (value: unknown, node: Node, kw: string, depth: number) => Failure[];

function keyword(kw: string, value: unknown, node: Node, depth: number): Failure[] {
  const check = CHECKS[kw];
  if (check) return check(value, node, kw, depth);
  if (IGNORED_ALONE.has(kw)) return [];
  return [unsure(child(node.ptr, kw), `"${kw}" is not evaluated by the checker`)];
}

/** Keywords read together with a sibling (`then` with `if`, `minContains` with `contains`). */
const IGNORED_ALONE = new Set(["then", "else", "minContains", "maxContains"]);

const CHECKS: Record<string, Check> = {
  type: (v, node, kw) => {
    const t = keywords(node)[kw];
    const names = Array.isArray(t) ? t : [t];
    const kind = kindOf(v);
    const ok = names.some((name) => kind !== undefined && kindsOfType(name)?.includes(kind));
    return ok ? [] : [fail(child(node.ptr, kw), `not of type ${names.join(" or ")}`)];
  },
  enum: (v, node, kw) => {
    const list = keywords(node)[kw];
    const ok = Array.isArray(list) && list.some((x) => jsonEqual(x, v));
    return ok ? [] : [fail(child(node.ptr, kw), "not one of the enum values")];
  },
  const: (v, node, kw) =>
    jsonEqual(keywords(node)[kw], v) ? [] : [fail(child(node.ptr, kw), "not the const value")],
  minimum: numeric((x, b) => x >= b, "below minimum"),
  maximum: numeric((x, b) => x <= b, "above maximum"),
  exclusiveMinimum: numeric((x, b) => x > b, "not above exclusiveMinimum"),
  exclusiveMaximum: numeric((x, b) => x < b, "not below exclusiveMaximum"),
  // As Ajv tests it, large numbers (exponent notation) included.
  multipleOf: numeric(
    (x, m) => m > 0 && x / m === Number.parseInt(String(x / m), 10),
    "not a multiple of",
  ),
  minLength: textual((n, b) => n >= b, "shorter than minLength"),
  maxLength: textual((n, b) => n <= b, "longer than maxLength"),
  pattern: (v, node, kw) => {
    const pattern = keywords(node)[kw];
    if (typeof v !== "string" || typeof pattern !== "string") return [];
    const matches = patternMatches(pattern, v);
    if (matches === undefined) return [unsure(child(node.ptr, kw), "pattern does not compile")];
    return matches ? [] : [fail(child(node.ptr, kw), `does not match pattern ${show(pattern)}`)];
  },
  format: (v, node, kw) =>
    typeof v === "string" || typeof v === "number"
      ? [unsure(child(node.ptr, kw), `format ${show(keywords(node)[kw])} is not evaluated`)]
      : [],
  minItems: counted(
    Array.isArray,
    (v) => (v as unknown[]).length,
    (n, b) => n >= b,
    "fewer items than minItems",
  ),
  maxItems: counted(
    Array.isArray,
    (v) => (v as unknown[]).length,
    (n, b) => n <= b,
    "more items than maxItems",
  ),
  minProperties: counted(
    isObject,
    (v) => Object.keys(v as object).length,
    (n, b) => n >= b,
    "fewer properties than minProperties",
  ),
  maxProperties: counted(
    isObject,
    (v) => Object.keys(v as object).length,
    (n, b) => n <= b,
    "more properties than maxProperties",
  ),
  uniqueItems: (v, node, kw) => {
    if (!Array.isArray(v) || keywords(node)[kw] !== true) return [];
    const repeated = v.some((x, i) => v.slice(i + 1).some((y) => jsonEqual(x, y)));
    return repeated ? [fail(child(node.ptr, kw), "has repeated items")] : [];
  },
  prefixItems: (v, node, kw, depth) => {
    const list = keywords(node)[kw];
    if (!Array.isArray(v) || !Array.isArray(list)) return [];
    return v.flatMap((item, i) =>
      i < list.length ? within(item, at(node, list[i], child(node.ptr, kw, i)), depth) : [],
    );
  },
  items: (v, node, kw, depth) => {
    if (!Array.isArray(v)) return [];
    const s = keywords(node);
    if (Array.isArray(s[kw]))
      return [unsure(child(node.ptr, kw), "items as an array is not 2020-12")];
    const start = Array.isArray(s.prefixItems) ? s.prefixItems.length : 0;
    const items = at(node, s[kw], child(node.ptr, kw));
    return v.slice(start).flatMap((item) => within(item, items, depth));
  },
  contains: (v, node, kw, depth) => {
    if (!Array.isArray(v)) return [];
    const s = keywords(node);
    const sub = at(node, s[kw], child(node.ptr, kw));
    const results = v.map((item) => within(item, sub, depth));
    const yes = results.filter((r) => r.length === 0).length;
    const maybe = results.filter((r) => r.length > 0 && r.every((f) => !f.certain)).length;
    const min = typeof s.minContains === "number" ? s.minContains : 1;
    const max = typeof s.maxContains === "number" ? s.maxContains : Number.POSITIVE_INFINITY;
    if (yes >= min && yes + maybe <= max) return [];
    if (yes + maybe < min || yes > max)
      return [fail(child(node.ptr, kw), "contains count out of range")];
    return [unsure(child(node.ptr, kw), "contains count undecided")];
  },
  properties: (v, node, kw, depth) => {
    const map = keywords(node)[kw];
    if (!isObject(v) || !isObject(map)) return [];
    return Object.keys(v).flatMap((name) =>
      Object.hasOwn(map, name)
        ? within(v[name], at(node, map[name], child(node.ptr, kw, name)), depth)
        : [],
    );
  },
  patternProperties: (v, node, kw, depth) => {
    const map = keywords(node)[kw];
    if (!isObject(v) || !isObject(map)) return [];
    const out: Failure[] = [];
    for (const [pattern, sub] of Object.entries(map)) {
      for (const name of Object.keys(v)) {
        const matches = patternMatches(pattern, name);
        const ptr = child(node.ptr, kw, pattern);
        if (matches === undefined) out.push(unsure(ptr, "pattern does not compile"));
        else if (matches) out.push(...within(v[name], at(node, sub, ptr), depth));
      }
    }
    return out;
  },
  additionalProperties: (v, node, kw, depth) => {
    if (!isObject(v)) return [];
    const s = keywords(node);
    const sub = at(node, s[kw], child(node.ptr, kw));
    const out: Failure[] = [];
    for (const name of Object.keys(v)) {
      const listed = isObject(s.properties) && Object.hasOwn(s.properties, name);
      const matched = Object.keys(isObject(s.patternProperties) ? s.patternProperties : {}).map(
        (p) => patternMatches(p, name),
      );
      if (matched.includes(undefined)) out.push(unsure(sub.ptr, "pattern does not compile"));
      else if (!listed && !matched.includes(true)) out.push(...within(v[name], sub, depth));
    }
    return out;
  },
  required: (v, node, kw) => {
    const list = keywords(node)[kw];
    if (!isObject(v) || !Array.isArray(list)) return [];
    return list.flatMap((name, i) =>
      typeof name === "string" && !Object.hasOwn(v, name)
        ? [fail(child(node.ptr, kw, i), `lacks required property '${name}'`)]
        : [],
    );
  },
  dependentRequired: (v, node, kw) => {
    const map = keywords(node)[kw];
    if (!isObject(v) || !isObject(map)) return [];
    return Object.entries(map).flatMap(([name, needs]) =>
      Object.hasOwn(v, name) && Array.isArray(needs)
        ? needs.flatMap((need, i) =>
            typeof need === "string" && !Object.hasOwn(v, need)
              ? [fail(child(node.ptr, kw, name, i), `has '${name}' without '${need}'`)]
              : [],
          )
        : [],
    );
  },
  dependentSchemas: (v, node, kw, depth) => {
    const map = keywords(node)[kw];
    if (!isObject(v) || !isObject(map)) return [];
    return Object.entries(map).flatMap(([name, sub]) =>
      Object.hasOwn(v, name) ? within(v, at(node, sub, child(node.ptr, kw, name)), depth) : [],
    );
  },
  propertyNames: (v, node, kw, depth) => {
    if (!isObject(v)) return [];
    const sub = at(node, keywords(node)[kw], child(node.ptr, kw));
    return Object.keys(v).flatMap((name) => within(name, sub, depth));
  },
  $ref: (v, node, kw, depth) => {
    const target = resolveRef(node, keywords(node)[kw]);
    if (target === undefined)
      return [unsure(child(node.ptr, kw), "$ref is not a local JSON Pointer")];
    return valueFailures(v, target, undefined, depth + 1);
  },
  allOf: (v, node, kw, depth) => branches(v, node, kw, depth).flat(),
  anyOf: (v, node, kw, depth) => {
    const results = branches(v, node, kw, depth);
    if (results.some((r) => r.length === 0)) return [];
    const certain = results.every((r) => r.some((f) => f.certain));
    return [{ ptr: child(node.ptr, kw), reason: "matches no branch of anyOf", certain }];
  },
  oneOf: (v, node, kw, depth) => {
    const results = branches(v, node, kw, depth);
    const yes = results.filter((r) => r.length === 0).length;
    const no = results.filter((r) => r.some((f) => f.certain)).length;
    if (yes === 1 && yes + no === results.length) return [];
    const ptr = child(node.ptr, kw);
    if (yes > 1) return [fail(ptr, "matches more than one branch of oneOf")];
    if (no === results.length) return [fail(ptr, "matches no branch of oneOf")];
    return [unsure(ptr, "oneOf undecided")];
  },
  not: (v, node, kw, depth) => {
    const inner = within(v, at(node, keywords(node)[kw], child(node.ptr, kw)), depth);
    if (inner.length === 0) return [fail(child(node.ptr, kw), "matches the not schema")];
    return inner.some((f) => f.certain) ? [] : [unsure(child(node.ptr, kw), "not undecided")];
  },
  if: (v, node, kw, depth) => {
    const s = keywords(node);
    const branch = (key: string): Failure[] =>
      key in s ? within(v, at(node, s[key], child(node.ptr, key)), depth) : [];
    const cond = within(v, at(node, s[kw], child(node.ptr, kw)), depth);
    if (cond.length === 0) return branch("then");
    if (cond.some((f) => f.certain)) return branch("else");
    const both = [...branch("then"), ...branch("else")];
    return both.length === 0 ? [] : [unsure(child(node.ptr, kw), "if undecided")];
  },
};

function within(value: unknown, node: Node, depth: number): Failure[] {
  return valueFailures(value, node, undefined, depth + 1);
}

function branches(v: unknown, node: Node, kw: string, depth: number): Failure[][] {
  const list = keywords(node)[kw];
  if (!Array.isArray(list)) return [];
  return list.map((sub, i) => within(v, at(node, sub, child(node.ptr, kw, i)), depth));
}

function numeric(ok: (x: number, bound: number) => boolean, reason: string): Check {
  return (v, node, kw) => {
    const bound = keywords(node)[kw];
    if (typeof v !== "number" || typeof bound !== "number" || ok(v, bound)) return [];
    return [fail(child(node.ptr, kw), `${reason} ${bound}`)];
  };
}

function textual(ok: (length: number, bound: number) => boolean, reason: string): Check {
  return (v, node, kw) => {
    const bound = keywords(node)[kw];
    if (typeof v !== "string" || typeof bound !== "number" || ok([...v].length, bound)) return [];
    return [fail(child(node.ptr, kw), `${reason} ${bound}`)];
  };
}

function counted(
  applies: (v: unknown) => boolean,
  size: (v: unknown) => number,
  ok: (n: number, bound: number) => boolean,
  reason: string,
): Check {
  return (v, node, kw) => {
    const bound = keywords(node)[kw];
    if (!applies(v) || typeof bound !== "number" || ok(size(v), bound)) return [];
    return [fail(child(node.ptr, kw), `${reason} ${bound}`)];
  };
}
