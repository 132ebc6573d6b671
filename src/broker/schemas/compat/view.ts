import { ALL_KINDS, child, isObject, type Kind, kindOf, kindsOfType } from "./json.js";
import { at, keywords, type Node, resolveRef } from "./nodes.js";
import { certainlyRejects, valueFailures } from "./value-check.js";

/**
 * The narrower side after expansion: a conjunction of subschemas (their `$ref`, `allOf`,
 * `anyOf` and `oneOf` already spread into views), an instance of which is known to satisfy
 * none of `excluded` (the other branches of a `oneOf`, a `not`). `anchor` is where to point
 * when no node is left (the object that lacks the keyword).
 *
 * Expansion only ever drops constraints it cannot follow, so a view accepts at least what its
 * schema accepts: proving the view included is proving the schema included.
 */
export interface View {
  readonly nodes: readonly Node[];
  readonly excluded: readonly Node[];
  readonly anchor: string;
}

const MAX_VIEWS = 64;

export function expand(nodes: readonly Node[], anchor: string): View[] {
  let views: Draft[] = [{ nodes: [], excluded: [], refs: new Set() }];
  for (const node of nodes) views = views.flatMap((view) => add(view, node));
  return views.map((v) => ({ nodes: v.nodes, excluded: v.excluded, anchor }));
}

interface Draft {
  nodes: Node[];
  excluded: Node[];
  refs: Set<string>;
}

function add(view: Draft, node: Node): Draft[] {
  if (node.schema === true) return [view];
  if (node.schema === false) return [];
  const s = keywords(node);
  let views: Draft[] = [{ ...view, nodes: [...view.nodes, node] }];
  if ("not" in s)
    views = views.map((v) => withExcluded(v, [at(node, s.not, child(node.ptr, "not"))]));
  const target = "$ref" in s ? resolveRef(node, s.$ref) : undefined;
  // An unresolvable ref is dropped: the view then accepts more, never less.
  if (target !== undefined && !view.refs.has(target.ptr)) {
    views = views.flatMap((v) => add({ ...v, refs: new Set([...v.refs, target.ptr]) }, target));
  }
  for (const [i, sub] of list(s.allOf).entries()) {
    const branch = at(node, sub, child(node.ptr, "allOf", i));
    views = views.flatMap((v) => add(v, branch));
  }
  views = split(views, node, "anyOf");
  return split(views, node, "oneOf");
}

function split(views: Draft[], node: Node, kw: "anyOf" | "oneOf"): Draft[] {
  const branches = list(keywords(node)[kw]).map((sub, i) => at(node, sub, child(node.ptr, kw, i)));
  if (branches.length === 0 || views.length * branches.length > MAX_VIEWS) return views;
  return views.flatMap((v) =>
    branches.flatMap((branch, i) => {
      const others = kw === "oneOf" ? branches.filter((_, j) => j !== i) : [];
      return add(withExcluded(v, others), branch);
    }),
  );
}

function withExcluded(view: Draft, more: Node[]): Draft {
  return { ...view, excluded: [...view.excluded, ...more] };
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Where to point in the narrower side when no particular keyword is at fault. */
export function primary(view: View): string {
  return view.nodes[0]?.ptr ?? view.anchor;
}

/** The pointer of `kw` in the first node that has it, else the primary pointer. */
export function keywordPtr(view: View, kw: string): string {
  const node = view.nodes.find((n) => kw in keywords(n));
  return node ? child(node.ptr, kw) : primary(view);
}

/** The kinds one node's own `type`, `const` and `enum` allow (all when it names none). */
export function nodeKinds(node: Node): Set<Kind> {
  const s = keywords(node);
  let kinds = new Set<Kind>(node.schema === false ? [] : ALL_KINDS);
  if ("type" in s) {
    const names = Array.isArray(s.type) ? s.type : [s.type];
    kinds = new Set(names.flatMap((name) => kindsOfType(name) ?? []));
  }
  const values = "const" in s ? [s.const] : Array.isArray(s.enum) ? s.enum : undefined;
  if (values) {
    const allowed = new Set(values.map(kindOf));
    kinds = new Set([...kinds].filter((k) => allowed.has(k)));
  }
  return kinds;
}

export function viewKinds(view: View): Set<Kind> {
  let kinds = new Set<Kind>(ALL_KINDS);
  for (const node of view.nodes) {
    const own = nodeKinds(node);
    kinds = new Set([...kinds].filter((k) => own.has(k)));
  }
  return kinds;
}

/** A value the narrower side may hold, and where it is written (for pointers). */
export interface Sample {
  readonly value: unknown;
  readonly ptr: string;
}

/**
 * The finite set of values the view can hold, when it is finite by `const`/`enum` or by its
 * kinds (null, booleans); values some node certainly rejects are left out.
 */
export function finiteValues(view: View, kinds: ReadonlySet<Kind>): Sample[] | undefined {
  const listed = listedValues(view);
  let samples = listed;
  if (samples === undefined) {
    if (![...kinds].every((k) => k === "null" || k === "boolean")) return undefined;
    const ptr = keywordPtr(view, "type");
    samples = [];
    if (kinds.has("null")) samples.push({ value: null, ptr });
    if (kinds.has("boolean")) samples.push({ value: true, ptr }, { value: false, ptr });
  }
  return samples.filter((sample) => possible(view, sample.value));
}

function listedValues(view: View): Sample[] | undefined {
  for (const node of view.nodes) {
    const s = keywords(node);
    if ("const" in s) return [{ value: s.const, ptr: child(node.ptr, "const") }];
    if (Array.isArray(s.enum)) {
      return s.enum.map((value, i) => ({ value, ptr: child(node.ptr, "enum", i) }));
    }
  }
  return undefined;
}

/** The value may be an instance of the view: no node certainly rejects it, no excluded node surely takes it. */
export function possible(view: View, value: unknown): boolean {
  if (view.nodes.some((node) => certainlyRejects(value, node))) return false;
  return !view.excluded.some((node) => valueFailures(value, node).length === 0);
}

/** Every property name some node of the view requires. */
export function requiredNames(view: View): Set<string> {
  const names = new Set<string>();
  for (const node of view.nodes) {
    const req = keywords(node).required;
    if (Array.isArray(req)) for (const name of req) if (typeof name === "string") names.add(name);
  }
  return names;
}

export function numberKeyword(node: Node, kw: string): number | undefined {
  const v = keywords(node)[kw];
  return typeof v === "number" ? v : undefined;
}

export function objectKeyword(node: Node, kw: string): Readonly<Record<string, unknown>> {
  const v = keywords(node)[kw];
  return isObject(v) ? v : {};
}
