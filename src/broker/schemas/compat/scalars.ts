import type { SchemaProblem } from "../types.js";
import { type Ctx, problem } from "./context.js";
import { child } from "./json.js";
import type { Node } from "./nodes.js";
import { keywordPtr, numberKeyword, primary, type View } from "./view.js";

/** One side's bound on a number or a count, with how it is written and where. */
export interface Limit {
  readonly value: number;
  readonly exclusive: boolean;
  readonly desc: string;
  readonly ptr: string;
}

export function limitProblem(
  ctx: Ctx,
  view: View,
  noun: string,
  side: "lower" | "upper",
  w: Limit,
  n: Limit | undefined,
): SchemaProblem {
  const nDesc = n ? n.desc : `no ${side} bound`;
  return problem(
    ctx,
    n?.ptr ?? primary(view),
    w.ptr,
    `${w.desc} rejects ${noun} ${ctx.old} accepts (${ctx.old}: ${nDesc})`,
    `the new schema accepts ${noun} ${ctx.old} rejects (${ctx.old}: ${w.desc}; the new schema: ${nDesc})`,
  );
}

function limitOf(node: Node, kw: string, exclusive: boolean): Limit | undefined {
  const value = numberKeyword(node, kw);
  if (value === undefined) return undefined;
  return { value, exclusive, desc: `${kw} ${value}`, ptr: child(node.ptr, kw) };
}

/** The tightest of the limits: the highest lower bound (`sign` 1) or the lowest upper (-1). */
export function tightest(limits: (Limit | undefined)[], sign: 1 | -1): Limit | undefined {
  let best: Limit | undefined;
  for (const l of limits) {
    if (l === undefined) continue;
    const d = best === undefined ? 1 : (l.value - best.value) * sign;
    if (d > 0 || (d === 0 && best !== undefined && l.exclusive && !best.exclusive)) best = l;
  }
  return best;
}

function lowerOf(nodes: readonly Node[]): Limit | undefined {
  return tightest(
    nodes.flatMap((n) => [limitOf(n, "minimum", false), limitOf(n, "exclusiveMinimum", true)]),
    1,
  );
}

function upperOf(nodes: readonly Node[]): Limit | undefined {
  return tightest(
    nodes.flatMap((n) => [limitOf(n, "maximum", false), limitOf(n, "exclusiveMaximum", true)]),
    -1,
  );
}

/** The integer bound a limit means for integers: x > 1.5 is x ≥ 2. */
function integral(l: Limit, side: "lower" | "upper"): number {
  if (side === "lower") return l.exclusive ? Math.floor(l.value) + 1 : Math.ceil(l.value);
  return l.exclusive ? Math.ceil(l.value) - 1 : Math.floor(l.value);
}

/** `n` is at least as tight as `w` on this side, for the given kind of number. */
function within(n: Limit, w: Limit, side: "lower" | "upper", integers: boolean): boolean {
  if (integers) {
    const a = integral(n, side);
    const b = integral(w, side);
    return side === "lower" ? a >= b : a <= b;
  }
  const d = side === "lower" ? n.value - w.value : w.value - n.value;
  return d > 0 || (d === 0 && (n.exclusive || !w.exclusive));
}

function empty(lo: Limit | undefined, hi: Limit | undefined, integers: boolean): boolean {
  if (lo === undefined || hi === undefined) return false;
  if (integers) return integral(lo, "lower") > integral(hi, "upper");
  return lo.value > hi.value || (lo.value === hi.value && (lo.exclusive || hi.exclusive));
}

export function numberCheck(
  ctx: Ctx,
  view: View,
  w: Node,
  kind: "integer" | "fraction",
  noun: string,
): SchemaProblem[] {
  const integers = kind === "integer";
  const nLo = lowerOf(view.nodes);
  const nHi = upperOf(view.nodes);
  if (empty(nLo, nHi, integers)) return [];
  const out: SchemaProblem[] = [];
  const wLo = lowerOf([w]);
  const wHi = upperOf([w]);
  if (wLo && !(nLo && within(nLo, wLo, "lower", integers))) {
    out.push(limitProblem(ctx, view, noun, "lower", wLo, nLo));
  }
  if (wHi && !(nHi && within(nHi, wHi, "upper", integers))) {
    out.push(limitProblem(ctx, view, noun, "upper", wHi, nHi));
  }
  out.push(...multipleOfCheck(ctx, view, w, integers, nLo, nHi));
  return out;
}

/**
 * The validator (Ajv) tests `multipleOf m` as `x / m === parseInt(x / m)`: exact for small
 * integers, but false from about 1e21 on (exponent notation) and subject to rounding for
 * fractions. So beyond an unchanged `multipleOf`, divisibility is used only for integers
 * within ±2^50, where the division is exact.
 */
const EXACT = 2 ** 50;

function multipleOfCheck(
  ctx: Ctx,
  view: View,
  w: Node,
  integers: boolean,
  lo: Limit | undefined,
  hi: Limit | undefined,
): SchemaProblem[] {
  const m = numberKeyword(w, "multipleOf");
  if (m === undefined || m <= 0) return [];
  const theirs = view.nodes.flatMap((node) => numberKeyword(node, "multipleOf") ?? []);
  if (theirs.includes(m)) return [];
  const divides = (n: number): boolean => Number.isInteger(n) && Number.isInteger(m) && n % m === 0;
  // Every integer is a multiple of 1/2^k, and x / 2^-k is x · 2^k, exact.
  const fraction = m <= 1 && Number.isInteger(Math.log2(1 / m));
  const exact =
    integers &&
    lo !== undefined &&
    hi !== undefined &&
    Math.max(Math.abs(lo.value), Math.abs(hi.value)) <= EXACT;
  if (exact && (fraction || theirs.some(divides))) return [];
  const wPtr = child(w.ptr, "multipleOf");
  const nPtr = keywordPtr(view, "multipleOf");
  if (integers && (fraction || theirs.some(divides))) {
    const why = `the validator's multipleOf test fails for very large numbers, so divisibility is compared only for integers bounded by minimum and maximum within ±2^50`;
    return [
      problem(
        ctx,
        nPtr,
        wPtr,
        `cannot prove multipleOf ${m} holds for every integer ${ctx.old} accepts: ${why}`,
        `cannot prove ${ctx.old}'s multipleOf ${m} holds for every integer the new schema accepts: ${why}`,
      ),
    ];
  }
  if (theirs.length === 0) {
    return [
      problem(
        ctx,
        nPtr,
        wPtr,
        `multipleOf ${m} rejects numbers ${ctx.old} accepts (${ctx.old}: no multipleOf)`,
        `the new schema accepts numbers that are not multiples of ${m}, which ${ctx.old} requires`,
      ),
    ];
  }
  const why =
    "multipleOf is compared only when unchanged, or for bounded integers when an integer divisor";
  return [
    problem(
      ctx,
      nPtr,
      wPtr,
      `cannot prove every multiple of ${theirs.join(" and ")} (${ctx.old}) is a multiple of ${m}: ${why}`,
      `cannot prove every multiple of ${theirs.join(" and ")} (the new schema) is a multiple of ${m} (${ctx.old}): ${why}`,
    ),
  ];
}

/** Bounds on a count (string length, items, properties) — inclusive integers. */
export function countCheck(
  ctx: Ctx,
  view: View,
  w: Node,
  noun: string,
  kws: readonly [string, string],
  nLo: Limit | undefined,
  nHi: Limit | undefined,
): SchemaProblem[] {
  if (nLo && nHi && nLo.value > nHi.value) return [];
  const out: SchemaProblem[] = [];
  const wLo = limitOf(w, kws[0], false);
  const wHi = limitOf(w, kws[1], false);
  if (wLo && wLo.value > (nLo?.value ?? 0))
    out.push(limitProblem(ctx, view, noun, "lower", wLo, nLo));
  if (wHi && !(nHi && nHi.value <= wHi.value))
    out.push(limitProblem(ctx, view, noun, "upper", wHi, nHi));
  return out;
}

export function countLimits(view: View, kw: string, sign: 1 | -1): Limit | undefined {
  return tightest(
    view.nodes.map((n) => limitOf(n, kw, false)),
    sign,
  );
}

export function stringCheck(ctx: Ctx, view: View, w: Node): SchemaProblem[] {
  const lo = countLimits(view, "minLength", 1);
  const hi = countLimits(view, "maxLength", -1);
  return countCheck(ctx, view, w, "strings", ["minLength", "maxLength"], lo, hi);
}
