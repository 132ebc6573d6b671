import type { CompatibilityMode, CompatibilityResult, JsonSchema, SchemaProblem } from "./types.js";

/**
 * Every instance `narrower` accepts is accepted by `wider`? Problems point into `pointInto`;
 * empty = proven. This first cut proves only the trivial cases and reports the rest as unprovable.
 */
export function subsetBreaks(
  narrower: JsonSchema,
  wider: JsonSchema,
  pointInto: "wider" | "narrower",
): SchemaProblem[] {
  if (narrower === false || wider === true || sameJson(narrower, wider)) return [];
  if (typeof wider === "object" && Object.keys(wider).length === 0) return [];
  void pointInto;
  return [{ pointer: "", message: "cannot prove the change is compatible" }];
}

/** `history`: the type's existing versions, oldest first (non-empty). The problems point into `candidate`. */
export function checkCompatibility(
  history: readonly JsonSchema[],
  candidate: JsonSchema,
  mode: CompatibilityMode,
): CompatibilityResult {
  if (mode === "NONE") return { compatible: true, errors: [] };
  const transitive = mode.endsWith("_TRANSITIVE");
  const olds = transitive ? history : history.slice(-1);
  const errors: SchemaProblem[] = [];
  for (const old of olds) {
    if (!mode.startsWith("FORWARD")) errors.push(...subsetBreaks(old, candidate, "wider"));
    if (!mode.startsWith("BACKWARD")) errors.push(...subsetBreaks(candidate, old, "narrower"));
  }
  return { compatible: errors.length === 0, errors };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
