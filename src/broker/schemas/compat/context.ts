import type { SchemaProblem } from "../types.js";
import type { Node } from "./nodes.js";

/**
 * One comparison "every instance of N is an instance of W". The candidate (the schema being
 * registered) is either side; problems point into it and messages name the other side `old`.
 */
export interface Ctx {
  /** Which side is the schema the problems point into. */
  readonly candidate: "n" | "w";
  /** The other side's name in messages, e.g. "version 3". */
  readonly old: string;
  /** Structural steps (into a property or item) taken on the current path. */
  structDepth: number;
  /** Comparisons on the current path, with the structural depth they started at. */
  readonly active: Map<string, number>;
  steps: number;
  /** The whole comparison, for a subschema pair: N (a conjunction of `nNodes`) ⊆ `w`. */
  readonly recur: (nNodes: readonly Node[], w: Node, anchor: string) => SchemaProblem[];
}

export const MAX_STEPS = 50_000;
export const MAX_PATH = 200;

export function newCtx(candidate: "n" | "w", old: string, recur: Ctx["recur"]): Ctx {
  return { candidate, old, structDepth: 0, active: new Map(), steps: 0, recur };
}

/** The candidate's pointer: `wPtr` when the candidate is the wider side, else `nPtr`. */
export function pick(ctx: Ctx, nPtr: string, wPtr: string): string {
  return ctx.candidate === "w" ? wPtr : nPtr;
}

/**
 * One problem, worded for the direction: `backward` when the candidate must accept all the
 * old version accepts (it is W), `forward` when the old version must accept all the candidate
 * accepts (it is N).
 */
export function problem(
  ctx: Ctx,
  nPtr: string,
  wPtr: string,
  backward: string,
  forward: string,
): SchemaProblem {
  return ctx.candidate === "w"
    ? { pointer: wPtr, message: backward }
    : { pointer: nPtr, message: forward };
}

/** The comparison one structural level down (a property value, an array item). */
export function descend(
  ctx: Ctx,
  nNodes: readonly Node[],
  w: Node,
  anchor: string,
): SchemaProblem[] {
  ctx.structDepth += 1;
  try {
    return ctx.recur(nNodes, w, anchor);
  } finally {
    ctx.structDepth -= 1;
  }
}

export function dedupe(problems: readonly SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
