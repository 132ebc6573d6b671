import type { SchemaProblem } from "../types.js";
import { type Ctx, descend, problem } from "./context.js";
import { child, show } from "./json.js";
import { at, implicitTrue, isTrivial, keywords, type Node } from "./nodes.js";
import { closedCount, narrowerPropertyNodes, propertyNodes } from "./properties.js";
import { countCheck, countLimits, type Limit, tightest } from "./scalars.js";
import { keywordPtr, objectKeyword, primary, requiredNames, type View } from "./view.js";

export function objectCheck(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  return [
    ...requiredCheck(ctx, view, w),
    ...dependentRequiredCheck(ctx, view, w),
    ...countCheck(
      ctx,
      view,
      w,
      "objects",
      ["minProperties", "maxProperties"],
      ...propertyCounts(view),
    ),
    ...namedCheck(ctx, view, w),
    ...othersCheck(ctx, view, w),
  ];
}

function requiredCheck(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  const wanted = keywords(w).required;
  if (!Array.isArray(wanted)) return [];
  const have = requiredNames(view);
  return wanted.flatMap((name, i) =>
    typeof name !== "string" || have.has(name)
      ? []
      : [
          problem(
            ctx,
            keywordPtr(view, "required"),
            child(w.ptr, "required", i),
            `new required property '${name}': events valid under ${ctx.old} lack it`,
            `property '${name}' is no longer required: events valid under the new schema may lack it, and ${ctx.old} requires it`,
          ),
        ],
  );
}

/** The view never holds property `name` (its schema there is `false`). */
function neverHas(view: View, name: string): boolean {
  return view.nodes.some((n) =>
    narrowerPropertyNodes(n, name).nodes.some((x) => x.schema === false),
  );
}

function dependentRequiredCheck(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  const have = requiredNames(view);
  const out: SchemaProblem[] = [];
  for (const [name, needs] of Object.entries(objectKeyword(w, "dependentRequired"))) {
    if (!Array.isArray(needs) || neverHas(view, name)) continue;
    needs.forEach((need, i) => {
      if (typeof need !== "string" || have.has(need)) return;
      const theirs = view.nodes.some((n) => {
        const list = objectKeyword(n, "dependentRequired")[name];
        return Array.isArray(list) && list.includes(need);
      });
      if (theirs) return;
      out.push(
        problem(
          ctx,
          keywordPtr(view, "dependentRequired"),
          child(w.ptr, "dependentRequired", name, i),
          `property '${need}' is newly required when '${name}' is present: events valid under ${ctx.old} may lack it`,
          `property '${need}' is no longer required when '${name}' is present, as ${ctx.old} requires`,
        ),
      );
    });
  }
  return out;
}

function propertyCounts(view: View): [Limit | undefined, Limit | undefined] {
  const required = requiredNames(view).size;
  const byRequired: Limit | undefined =
    required > 0
      ? {
          value: required,
          exclusive: false,
          desc: `${required} required properties`,
          ptr: keywordPtr(view, "required"),
        }
      : undefined;
  const lo = tightest([countLimits(view, "minProperties", 1), byRequired], 1);
  const closed = view.nodes.map((n): Limit | undefined => {
    const count = closedCount(n);
    return Number.isFinite(count)
      ? {
          value: count,
          exclusive: false,
          desc: `a closed content model of ${count} properties`,
          ptr: n.ptr,
        }
      : undefined;
  });
  const hi = tightest([countLimits(view, "maxProperties", -1), ...closed], -1);
  return [lo, hi];
}

/** Properties either side names: the value schemas are compared name by name. */
function namedCheck(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  const names = new Set(Object.keys(objectKeyword(w, "properties")));
  for (const node of view.nodes)
    for (const name of Object.keys(objectKeyword(node, "properties"))) names.add(name);
  return [...names].flatMap((name) => propertyCheck(ctx, view, w, name));
}

function propertyCheck(ctx: Ctx, view: View, w: Node, name: string): SchemaProblem[] {
  const parts = view.nodes.map((n) => narrowerPropertyNodes(n, name));
  if (parts.some((p) => p.nodes.some((x) => x.schema === false))) return [];
  const nNodes = parts.flatMap((p) => p.nodes).filter((x) => !isTrivial(x.schema));
  const listedInN = parts.some((p) => p.via === "listed");
  const anchor = nNodes[0]?.ptr ?? keywordPtr(view, "additionalProperties");
  const theirs = propertyNodes(w, name);
  if (theirs.unknown) {
    const text = `cannot prove the change: a patternProperties pattern does not compile here, so which schema applies to '${name}' is unknown`;
    return [problem(ctx, anchor, child(w.ptr, "patternProperties"), text, text)];
  }
  const out: SchemaProblem[] = [];
  for (const wNode of theirs.nodes) {
    if (isTrivial(wNode.schema)) continue;
    if (wNode.schema === false) out.push(forbidden(ctx, name, theirs.via, anchor, wNode.ptr));
    else if (nNodes.length === 0 && !listedInN && theirs.via === "listed") {
      out.push(openModel(ctx, name, anchor, wNode.ptr));
    } else out.push(...descend(ctx, nNodes, wNode, anchor));
  }
  return out;
}

function forbidden(ctx: Ctx, name: string, via: string, nPtr: string, wPtr: string): SchemaProblem {
  const closed = via === "additional";
  return problem(
    ctx,
    nPtr,
    wPtr,
    closed
      ? `property '${name}' is no longer allowed ("additionalProperties": false): events valid under ${ctx.old} may carry it`
      : `property '${name}' is no longer allowed (its schema is false): events valid under ${ctx.old} may carry it`,
    closed
      ? `property '${name}' is new: ${ctx.old} does not allow it (a closed content model, "additionalProperties": false)`
      : `property '${name}' is new: ${ctx.old} forbids it (its schema is false)`,
  );
}

function openModel(ctx: Ctx, name: string, nPtr: string, wPtr: string): SchemaProblem {
  return problem(
    ctx,
    nPtr,
    wPtr,
    `property '${name}' is new: ${ctx.old} allowed any value there (an open content model), so its events may carry a '${name}' this schema rejects; keep '${name}' unconstrained ({}) here, or close the content model: schemas registered with "additionalProperties": false can add optional properties compatibly`,
    `property '${name}' is gone: the new schema allows any value there (an open content model), but ${ctx.old} constrains it; add "additionalProperties": false to the new schema, or keep '${name}' as ${ctx.old} has it`,
  );
}

/** Names neither side lists: `patternProperties` and `additionalProperties`. */
function othersCheck(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  const wPatterns = objectKeyword(w, "patternProperties");
  const ws = keywords(w);
  const wRest =
    "additionalProperties" in ws
      ? at(w, ws.additionalProperties, child(w.ptr, "additionalProperties"))
      : implicitTrue(w);
  const open = Object.entries(wPatterns).every(([p, s]) => isTrivial(at(w, s, p).schema));
  if (isTrivial(wRest.schema) && open) return [];
  if (view.nodes.some((n) => closedCount(n) !== Number.POSITIVE_INFINITY)) return [];
  const shaping = view.nodes.filter(
    (n) => "additionalProperties" in keywords(n) || "patternProperties" in keywords(n),
  );
  let best: SchemaProblem[] | undefined;
  for (const node of shaping.length > 0 ? shaping : [undefined]) {
    const found = othersFrom(ctx, view, node, w, wRest);
    if (found.length === 0) return [];
    if (best === undefined || found.length < best.length) best = found;
  }
  return best ?? [];
}

/** Names matching no listed property, read through one node `c` of the view (or none: open). */
function othersFrom(
  ctx: Ctx,
  view: View,
  c: Node | undefined,
  w: Node,
  wRest: Node,
): SchemaProblem[] {
  const cPatterns = c ? objectKeyword(c, "patternProperties") : {};
  const cs = c ? keywords(c) : {};
  const cRest =
    c && "additionalProperties" in cs
      ? at(c, cs.additionalProperties, child(c.ptr, "additionalProperties"))
      : undefined;
  const nPtr = cRest?.ptr ?? c?.ptr ?? primary(view);
  const wPatterns = objectKeyword(w, "patternProperties");
  const patternNode = (node: Node, pattern: string, s: unknown): Node =>
    at(node, s, child(node.ptr, "patternProperties", pattern));
  const out: SchemaProblem[] = [];
  for (const [q, sq] of Object.entries(wPatterns)) {
    const wq = patternNode(w, q, sq);
    if (isTrivial(wq.schema)) continue;
    if (c && Object.hasOwn(cPatterns, q)) {
      out.push(
        ...descend(
          ctx,
          [patternNode(c, q, cPatterns[q])],
          wq,
          child(c.ptr, "patternProperties", q),
        ),
      );
      continue;
    }
    if (cRest === undefined || isTrivial(cRest.schema)) out.push(openPattern(ctx, q, nPtr, wq.ptr));
    else if (cRest.schema !== false) out.push(...descend(ctx, [cRest], wq, cRest.ptr));
    for (const [r, sr] of Object.entries(cPatterns)) {
      if (c && descend(ctx, [patternNode(c, r, sr)], wq, nPtr).length > 0) {
        out.push(overlap(ctx, r, q, child(c.ptr, "patternProperties", r), wq.ptr));
      }
    }
  }
  if (!isTrivial(wRest.schema)) {
    if (cRest?.schema !== false) {
      if (wRest.schema === false) out.push(closing(ctx, nPtr, wRest.ptr));
      else out.push(...descend(ctx, cRest ? [cRest] : [], wRest, nPtr));
    }
    for (const [r, sr] of Object.entries(cPatterns)) {
      if (!c || Object.hasOwn(wPatterns, r)) continue;
      const found = descend(
        ctx,
        [patternNode(c, r, sr)],
        wRest,
        child(c.ptr, "patternProperties", r),
      );
      if (found.length === 0) continue;
      if (Object.keys(wPatterns).length === 0) out.push(...found);
      else
        out.push(
          overlap(ctx, r, "additionalProperties", child(c.ptr, "patternProperties", r), wRest.ptr),
        );
    }
  }
  return out;
}

function openPattern(ctx: Ctx, pattern: string, nPtr: string, wPtr: string): SchemaProblem {
  return problem(
    ctx,
    nPtr,
    wPtr,
    `properties matching ${show(pattern)} are newly constrained: ${ctx.old} allowed any value for them (an open content model); keep them unconstrained here, or close the content model: schemas registered with "additionalProperties": false can add patternProperties compatibly`,
    `the new schema allows any value for properties matching ${show(pattern)} (an open content model), but ${ctx.old} constrains them; add "additionalProperties": false to the new schema, or keep the patternProperties entry`,
  );
}

function closing(ctx: Ctx, nPtr: string, wPtr: string): SchemaProblem {
  return problem(
    ctx,
    nPtr,
    wPtr,
    `the content model is now closed ("additionalProperties": false): events valid under ${ctx.old} may carry properties this schema does not list`,
    `the new schema accepts properties it does not list (an open content model); ${ctx.old} does not ("additionalProperties": false): add "additionalProperties": false to the new schema`,
  );
}

function overlap(ctx: Ctx, r: string, q: string, nPtr: string, wPtr: string): SchemaProblem {
  const text = `cannot prove the change: names matching ${show(r)} may also fall under ${q === "additionalProperties" ? q : show(q)}, and patterns are compared only as equal strings`;
  return problem(ctx, nPtr, wPtr, text, text);
}
