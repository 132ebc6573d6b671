import type { SchemaProblem } from "../types.js";
import { type Ctx, dedupe, MAX_PATH, MAX_STEPS, newCtx, problem } from "./context.js";
import { conjuncts, disjoint } from "./disjoint.js";
import { flatCheck } from "./flat.js";
import { child, jsonEqual, show } from "./json.js";
import {
  at,
  type Doc,
  isTrivial,
  keywords,
  type Node,
  nestedId,
  resolveRef,
  sameSchema,
} from "./nodes.js";
import { expand, primary, type View, viewKinds } from "./view.js";

/**
 * The problems with "every instance `n` accepts, `w` accepts", pointing into the candidate
 * side and naming the other side as messages do. Empty means proven.
 */
export function subsetProblems(n: Doc, w: Doc, candidate: "n" | "w"): SchemaProblem[] {
  if (jsonEqual(n.root, w.root)) return [];
  const ctx = newCtx(candidate, candidate === "w" ? n.name : w.name, (nNodes, wNode, anchor) =>
    checkNodes(ctx, nNodes, wNode, anchor),
  );
  const ids = idProblems(ctx, n, w);
  if (ids.length > 0) return ids;
  return dedupe(
    checkNodes(ctx, [{ schema: n.root, doc: n, ptr: "" }], { schema: w.root, doc: w, ptr: "" }, ""),
  );
}

function idProblems(ctx: Ctx, n: Doc, w: Doc): SchemaProblem[] {
  const inN = nestedId(n.root);
  const inW = nestedId(w.root);
  if (inN === undefined && inW === undefined) return [];
  const text = `cannot prove the change: a nested "$id" changes what "$ref"s mean, which the checker does not follow`;
  return [problem(ctx, inN ?? "", inW ?? "", text, text)];
}

function checkNodes(ctx: Ctx, nNodes: readonly Node[], w: Node, anchor: string): SchemaProblem[] {
  if (isTrivial(w.schema) || nNodes.some((n) => sameSchema(n, w))) return [];
  return expand(nNodes, anchor).flatMap((view) => checkView(ctx, view, w));
}

function checkView(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  if (isTrivial(w.schema) || view.nodes.some((n) => sameSchema(n, w))) return [];
  if (viewKinds(view).size === 0) return [];
  ctx.steps += 1;
  if (ctx.steps > MAX_STEPS) {
    const text = `cannot prove the change: the schemas are too large to compare (over ${MAX_STEPS} steps)`;
    return [problem(ctx, primary(view), w.ptr, text, text)];
  }
  const key = `${view.nodes.map((n) => n.ptr).join("\u0001")}\u0000${view.excluded.map((n) => n.ptr).join("\u0001")}\u0000${w.ptr}`;
  const entered = ctx.active.get(key);
  if (entered !== undefined) {
    // The same comparison further up the path: assuming it holds is sound when an item or
    // property was entered in between (instances are finite), not otherwise.
    if (ctx.structDepth > entered) return [];
    const text = `cannot prove the change: a "$ref" cycle here never reaches a property or item`;
    return [problem(ctx, primary(view), w.ptr, text, text)];
  }
  if (ctx.active.size > MAX_PATH) {
    const text = `cannot prove the change: the schemas nest more than ${MAX_PATH} comparisons deep`;
    return [problem(ctx, primary(view), w.ptr, text, text)];
  }
  ctx.active.set(key, ctx.structDepth);
  try {
    return decompose(ctx, view, w);
  } finally {
    ctx.active.delete(key);
  }
}

function decompose(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  if (w.schema === false) {
    return [
      problem(
        ctx,
        primary(view),
        w.ptr,
        `the new schema accepts nothing here (false): events valid under ${ctx.old} may hold a value here`,
        `${ctx.old} accepts nothing here (false); the new schema accepts values here`,
      ),
    ];
  }
  const s = keywords(w);
  const out: SchemaProblem[] = [];
  if ("$ref" in s) out.push(...refCheck(ctx, view, w, s.$ref));
  if (Array.isArray(s.allOf)) {
    s.allOf.forEach((sub, i) => {
      out.push(...checkView(ctx, view, at(w, sub, child(w.ptr, "allOf", i))));
    });
  }
  if (Array.isArray(s.anyOf)) out.push(...anyOfCheck(ctx, view, w, branchesOf(w, "anyOf")));
  if (Array.isArray(s.oneOf)) out.push(...oneOfCheck(ctx, view, w, branchesOf(w, "oneOf")));
  out.push(...flatCheck(ctx, view, w));
  return out;
}

function refCheck(ctx: Ctx, view: View, w: Node, ref: unknown): SchemaProblem[] {
  const target = resolveRef(w, ref);
  if (target) return checkView(ctx, view, target);
  return [
    problem(
      ctx,
      primary(view),
      child(w.ptr, "$ref"),
      `cannot prove the change: "$ref" ${show(ref)} is not a local JSON Pointer into this schema`,
      `cannot prove the change: ${ctx.old}'s "$ref" ${show(ref)} is not a local JSON Pointer`,
    ),
  ];
}

function branchesOf(w: Node, kw: "anyOf" | "oneOf"): Node[] {
  const list = keywords(w)[kw];
  return Array.isArray(list) ? list.map((sub, i) => at(w, sub, child(w.ptr, kw, i))) : [];
}

function fewest(results: SchemaProblem[][]): SchemaProblem[] {
  return results.reduce((a, b) => (b.length < a.length ? b : a), results[0] ?? []);
}

function anyOfCheck(ctx: Ctx, view: View, w: Node, branches: Node[]): SchemaProblem[] {
  const results: SchemaProblem[][] = [];
  for (const branch of branches) {
    const found = checkView(ctx, view, branch);
    if (found.length === 0) return [];
    results.push(found);
  }
  return [uncovered(ctx, view, w, "anyOf"), ...fewest(results)];
}

function uncovered(ctx: Ctx, view: View, w: Node, kw: string): SchemaProblem {
  return problem(
    ctx,
    primary(view),
    child(w.ptr, kw),
    `no branch of ${kw} is proven to accept every value ${ctx.old} accepts here`,
    `no branch of ${ctx.old}'s ${kw} is proven to accept every value the new schema accepts here`,
  );
}

/**
 * A branch that covers N is not enough under `oneOf`: N's values must also match no other
 * branch, which is proven only by disjointness (kinds, listed values, discriminators) or by
 * N being known to miss that branch (N's own `oneOf` sibling).
 */
function oneOfCheck(ctx: Ctx, view: View, w: Node, branches: Node[]): SchemaProblem[] {
  const results: SchemaProblem[][] = [];
  for (const [j, branch] of branches.entries()) {
    const found = checkView(ctx, view, branch);
    results.push(found);
    if (found.length > 0) continue;
    const mine = conjuncts(branch);
    const overlapping = branches.filter(
      (other, i) =>
        i !== j &&
        !view.excluded.some((x) => sameSchema(x, other)) &&
        !disjoint(view.nodes, conjuncts(other)) &&
        !disjoint(mine, conjuncts(other)),
    );
    if (overlapping.length === 0) return [];
    const others = overlapping.map((o) => o.ptr.slice(o.ptr.lastIndexOf("/") + 1)).join(", ");
    const text = (who: string): string =>
      `cannot prove exactly one branch of oneOf matches: values ${who} accepts here match branch ${j} and may also match branch ${others}`;
    return [
      problem(ctx, primary(view), child(w.ptr, "oneOf"), text(ctx.old), text("the new schema")),
    ];
  }
  return [uncovered(ctx, view, w, "oneOf"), ...fewest(results)];
}
