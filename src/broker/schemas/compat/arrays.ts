import type { SchemaProblem } from "../types.js";
import { type Ctx, descend, problem } from "./context.js";
import { child } from "./json.js";
import { at, implicitTrue, isTrivial, keywords, type Node } from "./nodes.js";
import { countCheck, countLimits, type Limit, tightest } from "./scalars.js";
import { keywordPtr, primary, type View } from "./view.js";

/** The subschema that applies to item `i` (2020-12: `items` covers what follows `prefixItems`). */
export function itemNode(node: Node, i: number): Node {
  const s = keywords(node);
  if (Array.isArray(s.prefixItems) && i < s.prefixItems.length) {
    return at(node, s.prefixItems[i], child(node.ptr, "prefixItems", i));
  }
  if ("items" in s && !Array.isArray(s.items)) return at(node, s.items, child(node.ptr, "items"));
  return implicitTrue(node);
}

function prefixLength(node: Node): number {
  const p = keywords(node).prefixItems;
  return Array.isArray(p) ? p.length : 0;
}

/** The most items the node allows because some item position is `false`. */
function falseLimit(node: Node): Limit | undefined {
  const p = keywords(node).prefixItems;
  const list = Array.isArray(p) ? p : [];
  const i = list.indexOf(false);
  if (i >= 0) {
    return {
      value: i,
      exclusive: false,
      desc: `prefixItems/${i} false`,
      ptr: child(node.ptr, "prefixItems", i),
    };
  }
  if (keywords(node).items === false) {
    return {
      value: list.length,
      exclusive: false,
      desc: `"items": false after ${list.length} prefixItems`,
      ptr: child(node.ptr, "items"),
    };
  }
  return undefined;
}

export function arrayCheck(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  const ws = keywords(w);
  if (Array.isArray(ws.items)) {
    const text = `cannot prove the change: "items" as an array is not JSON Schema 2020-12 (use "prefixItems")`;
    return [problem(ctx, primary(view), child(w.ptr, "items"), text, text)];
  }
  const lo = countLimits(view, "minItems", 1);
  const hi = tightest([countLimits(view, "maxItems", -1), ...view.nodes.map(falseLimit)], -1);
  if (lo && hi && lo.value > hi.value) return [];
  const out = countCheck(ctx, view, w, "arrays", ["minItems", "maxItems"], lo, hi);
  const most = hi?.value ?? Number.POSITIVE_INFINITY;
  const positions = Math.max(prefixLength(w), ...view.nodes.map(prefixLength));
  // Positions past every prefixItems share one schema on each side: one more check covers them.
  for (let i = 0; i <= positions && i < most; i++) out.push(...itemCheck(ctx, view, w, i));
  if (
    ws.uniqueItems === true &&
    most > 1 &&
    !view.nodes.some((n) => keywords(n).uniqueItems === true)
  ) {
    out.push(
      problem(
        ctx,
        keywordPtr(view, "uniqueItems"),
        child(w.ptr, "uniqueItems"),
        `uniqueItems is new: ${ctx.old} accepts arrays with repeated items`,
        `the new schema accepts arrays with repeated items; ${ctx.old} does not (uniqueItems)`,
      ),
    );
  }
  return out;
}

function itemCheck(ctx: Ctx, view: View, w: Node, i: number): SchemaProblem[] {
  const wItem = itemNode(w, i);
  if (isTrivial(wItem.schema)) return [];
  const nItems = view.nodes.map((n) => itemNode(n, i));
  const anchor = nItems[0]?.ptr ?? view.anchor;
  if (wItem.schema === false) {
    return [
      problem(
        ctx,
        anchor,
        wItem.ptr,
        `arrays with more than ${i} items are no longer accepted: ${ctx.old} accepts them`,
        `the new schema accepts arrays with more than ${i} items; ${ctx.old} does not`,
      ),
    ];
  }
  return descend(
    ctx,
    nItems.filter((n) => !isTrivial(n.schema)),
    wItem,
    anchor,
  );
}
