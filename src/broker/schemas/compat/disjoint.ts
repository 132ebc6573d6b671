import { child, kindOf } from "./json.js";
import { at, keywords, type Node, resolveRef } from "./nodes.js";
import { narrowerPropertyNodes } from "./properties.js";
import { certainlyRejects } from "./value-check.js";
import { nodeKinds } from "./view.js";

/**
 * The conjunction a node stands for, with `$ref` and `allOf` spread out (`anyOf`, `oneOf` and
 * the rest left in place): each member accepts at least what the node accepts.
 */
export function conjuncts(node: Node, seen: Set<string> = new Set()): Node[] {
  const s = keywords(node);
  const out = [node];
  const target = "$ref" in s ? resolveRef(node, s.$ref) : undefined;
  if (target && !seen.has(target.ptr)) {
    seen.add(target.ptr);
    out.push(...conjuncts(target, seen));
  }
  if (Array.isArray(s.allOf)) {
    s.allOf.forEach((sub, i) => {
      out.push(...conjuncts(at(node, sub, child(node.ptr, "allOf", i)), seen));
    });
  }
  return out;
}

/**
 * No instance satisfies both conjunctions, provably: their kinds do not meet, one's listed
 * values all fail the other, or a required property's listed values (a discriminator) all
 * fail the other's schema for that property.
 */
export function disjoint(a: readonly Node[], b: readonly Node[]): boolean {
  const kindsA = kindsOf(a);
  const common = [...kindsOf(b)].filter((k) => kindsA.has(k));
  if (common.length === 0) return true;
  if (valuesFail(a, b) || valuesFail(b, a)) return true;
  if (common.every((k) => k === "object")) return discriminated(a, b) || discriminated(b, a);
  return false;
}

function kindsOf(nodes: readonly Node[]): Set<string> {
  let kinds: Set<string> | undefined;
  for (const node of nodes) {
    const own = nodeKinds(node);
    kinds =
      kinds === undefined ? new Set(own) : new Set([...kinds].filter((k) => own.has(k as never)));
  }
  return kinds ?? new Set(["null", "boolean", "string", "integer", "fraction", "array", "object"]);
}

function listed(nodes: readonly Node[]): unknown[] | undefined {
  for (const node of nodes) {
    const s = keywords(node);
    if ("const" in s) return [s.const];
    if (Array.isArray(s.enum)) return s.enum;
  }
  return undefined;
}

function valuesFail(a: readonly Node[], b: readonly Node[]): boolean {
  const values = listed(a);
  return (
    values !== undefined &&
    values.every((v) => kindOf(v) !== undefined && b.some((n) => certainlyRejects(v, n)))
  );
}

function discriminated(a: readonly Node[], b: readonly Node[]): boolean {
  for (const name of requiredIn(a)) {
    const values = listed(
      a.flatMap((n) => narrowerPropertyNodes(n, name).nodes.flatMap((x) => conjuncts(x))),
    );
    if (values === undefined) continue;
    const theirs = b.flatMap((n) => narrowerPropertyNodes(n, name).nodes);
    if (values.every((v) => theirs.some((x) => certainlyRejects(v, x)))) return true;
  }
  return false;
}

function requiredIn(nodes: readonly Node[]): string[] {
  return nodes.flatMap((n) => {
    const r = keywords(n).required;
    return Array.isArray(r) ? r.filter((x): x is string => typeof x === "string") : [];
  });
}
