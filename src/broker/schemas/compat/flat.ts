import type { SchemaProblem } from "../types.js";
import { arrayCheck } from "./arrays.js";
import { type Ctx, problem } from "./context.js";
import { child, type Kind, kindOf, kindsOfType, nounOf, show } from "./json.js";
import { ANNOTATIONS, COMBINATORS, keywords, type Node, sameValue } from "./nodes.js";
import { objectCheck } from "./objects.js";
import { numberCheck, stringCheck } from "./scalars.js";
import { valueFailures } from "./value-check.js";
import { finiteValues, keywordPtr, possible, type Sample, type View, viewKinds } from "./view.js";

/** Keywords compared by meaning; any other assertion in the wider schema must be unchanged. */
const MODELLED = new Set([
  "type",
  "enum",
  "const",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "uniqueItems",
  "items",
  "prefixItems",
  "properties",
  "patternProperties",
  "additionalProperties",
  "required",
  "minProperties",
  "maxProperties",
  "dependentRequired",
]);

/** Keywords whose meaning depends on a sibling: they must be unchanged together. */
const GROUPS: Record<string, readonly string[]> = {
  if: ["if", "then", "else"],
  contains: ["contains", "minContains", "maxContains"],
};
const LEADS = new Map([
  ["then", "if"],
  ["else", "if"],
  ["minContains", "contains"],
  ["maxContains", "contains"],
]);

/** The instance kinds an unmodelled keyword constrains (all, when not listed). */
const APPLIES: Record<string, readonly Kind[]> = {
  pattern: ["string"],
  format: ["string", "integer", "fraction"],
  propertyNames: ["object"],
  dependentSchemas: ["object"],
  unevaluatedProperties: ["object"],
  contains: ["array"],
  unevaluatedItems: ["array"],
  additionalItems: ["array"],
};

/**
 * N (a flat view) ⊆ the wider node's own keywords, its combinators being checked by the
 * caller. Kind by kind: a finite N is checked value by value, the rest keyword by keyword.
 */
export function flatCheck(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  const kinds = viewKinds(view);
  const ws = keywords(w);
  const wKinds = typeKinds(w);
  const missing = [...kinds].filter((k) => !wKinds.has(k));
  const present = new Set([...kinds].filter((k) => wKinds.has(k)));
  const out: SchemaProblem[] = missing.length > 0 ? [typeProblem(ctx, view, w, missing)] : [];
  const proven = unchanged(view, w);
  const skip = new Set([...COMBINATORS, ...proven]);
  const finite = finiteValues(view, present);
  if (finite) {
    const samples = finite.filter((s) => present.has(kindOf(s.value) ?? "null"));
    return [...out, ...samples.flatMap((s) => sampleProblems(ctx, s, w, skip))];
  }
  out.push(...unmodelled(ctx, view, w, present, proven));
  for (const value of [
    ...(present.has("null") ? [null] : []),
    ...(present.has("boolean") ? [true, false] : []),
  ]) {
    if (possible(view, value))
      out.push(...sampleProblems(ctx, { value, ptr: keywordPtr(view, "type") }, w, skip));
  }
  const symbolic = [...present].filter((k) => k !== "null" && k !== "boolean");
  if (symbolic.length === 0) return out;
  const listed = "const" in ws ? "const" : "enum" in ws ? "enum" : undefined;
  if (listed) return [...out, listedOnly(ctx, view, w, listed, symbolic)];
  const numbers = present.has("fraction") ? "numbers" : "integers";
  for (const kind of symbolic) out.push(...kindCheck(ctx, view, w, kind, numbers));
  return out;
}

function kindCheck(ctx: Ctx, view: View, w: Node, kind: Kind, numbers: string): SchemaProblem[] {
  switch (kind) {
    case "string":
      return stringCheck(ctx, view, w);
    case "integer":
    case "fraction":
      return numberCheck(ctx, view, w, kind, numbers);
    case "array":
      return arrayCheck(ctx, view, w);
    case "object":
      return objectCheck(ctx, view, w);
    default:
      return [];
  }
}

/** The kinds the node's `type` keyword allows (every kind without one). */
function typeKinds(w: Node): Set<Kind> {
  const t = keywords(w).type;
  if (t === undefined)
    return new Set(["null", "boolean", "string", "integer", "fraction", "array", "object"]);
  const names = Array.isArray(t) ? t : [t];
  return new Set(names.flatMap((name) => kindsOfType(name) ?? []));
}

function typeProblem(ctx: Ctx, view: View, w: Node, missing: Kind[]): SchemaProblem {
  const noun = nounOf(missing);
  const wPtr = "type" in keywords(w) ? child(w.ptr, "type") : w.ptr;
  return problem(
    ctx,
    keywordPtr(view, "type"),
    wPtr,
    `type narrowed: ${ctx.old} accepts ${noun}; the new schema does not`,
    `type widened: the new schema accepts ${noun}; ${ctx.old} does not`,
  );
}

function listedOnly(ctx: Ctx, view: View, w: Node, kw: string, kinds: Kind[]): SchemaProblem {
  const noun = nounOf(kinds);
  return problem(
    ctx,
    keywordPtr(view, "type"),
    child(w.ptr, kw),
    `only the listed values are accepted now ("${kw}"): ${ctx.old} accepts other ${noun} here`,
    `the new schema accepts ${noun} beyond the values ${ctx.old} lists ("${kw}")`,
  );
}

function sampleProblems(
  ctx: Ctx,
  sample: Sample,
  w: Node,
  skip: ReadonlySet<string>,
): SchemaProblem[] {
  const failure = valueFailures(sample.value, w, skip)[0];
  if (failure === undefined) return [];
  const v = show(sample.value);
  const why = failure.reason;
  return [
    failure.certain
      ? problem(
          ctx,
          sample.ptr,
          failure.ptr,
          `value ${v} is no longer accepted (${why}): events valid under ${ctx.old} may carry it`,
          `value ${v} is new: ${ctx.old} rejects it (${why})`,
        )
      : problem(
          ctx,
          sample.ptr,
          failure.ptr,
          `cannot prove value ${v} is still accepted (${why}): ${ctx.old} accepts it`,
          `cannot prove ${ctx.old} accepts value ${v} (${why})`,
        ),
  ];
}

/**
 * Keywords whose meaning depends on every sibling and applicator around them: an equal value
 * proves nothing once anything else in the subschema changed.
 */
const CONTEXTUAL = new Set(["unevaluatedProperties", "unevaluatedItems", "additionalItems"]);

/** Unmodelled keywords (or groups) of W that some node of N has with the same value. */
function unchanged(view: View, w: Node): Set<string> {
  const ws = keywords(w);
  const proven = new Set<string>();
  for (const kw of Object.keys(ws)) {
    if (MODELLED.has(kw) || ANNOTATIONS.has(kw) || COMBINATORS.has(kw) || CONTEXTUAL.has(kw))
      continue;
    const group = GROUPS[LEADS.get(kw) ?? kw] ?? [kw];
    const same = view.nodes.some((n) => {
      const ns = keywords(n);
      return group.every(
        (g) => g in ns === g in ws && (!(g in ws) || sameValue(ns[g], n, ws[g], w)),
      );
    });
    if (same) proven.add(kw);
  }
  return proven;
}

function unmodelled(
  ctx: Ctx,
  view: View,
  w: Node,
  kinds: ReadonlySet<Kind>,
  proven: ReadonlySet<string>,
): SchemaProblem[] {
  const ws = keywords(w);
  const out: SchemaProblem[] = [];
  for (const kw of Object.keys(ws)) {
    if (MODELLED.has(kw) || ANNOTATIONS.has(kw) || COMBINATORS.has(kw) || proven.has(kw)) continue;
    if (LEADS.has(kw)) continue; // read with its lead keyword, or alone meaningless
    const applies = APPLIES[kw];
    if (applies && !applies.some((k) => kinds.has(k))) continue;
    out.push(kw === "pattern" ? patternProblem(ctx, view, w) : unmodelledProblem(ctx, view, w, kw));
  }
  return out;
}

function patternProblem(ctx: Ctx, view: View, w: Node): SchemaProblem {
  const theirs = view.nodes.map((n) => keywords(n).pattern).filter((p) => typeof p === "string");
  const desc = theirs.length > 0 ? `pattern ${theirs.map(show).join(" and ")}` : "no pattern";
  const mine = show(keywords(w).pattern);
  return problem(
    ctx,
    keywordPtr(view, "pattern"),
    child(w.ptr, "pattern"),
    `cannot prove pattern ${mine} accepts every string ${ctx.old} accepts (${ctx.old}: ${desc}); pattern changes are not compared`,
    `cannot prove ${ctx.old}'s pattern ${mine} accepts every string the new schema accepts (the new schema: ${desc}); pattern changes are not compared`,
  );
}

function unmodelledProblem(ctx: Ctx, view: View, w: Node, kw: string): SchemaProblem {
  const when = CONTEXTUAL.has(kw)
    ? "only when the whole subschema is unchanged"
    : `"${kw}" only when it is unchanged`;
  return problem(
    ctx,
    keywordPtr(view, kw),
    child(w.ptr, kw),
    `cannot prove "${kw}" accepts every value ${ctx.old} accepts: the checker compares ${when}`,
    `cannot prove ${ctx.old}'s "${kw}" accepts every value the new schema accepts: the checker compares ${when}`,
  );
}
