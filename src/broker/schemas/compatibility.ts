import { jsonEqual } from "./canonical.js";
import { dedupe } from "./compat/context.js";
import { subsetProblems } from "./compat/subset.js";
import type { CompatibilityMode, CompatibilityResult, JsonSchema, SchemaProblem } from "./types.js";

/**
 * Every instance `narrower` accepts is accepted by `wider`? Problems point into `pointInto`
 * ("wider" or "narrower"); empty = proven. What the checker cannot prove is a problem too,
 * saying so ("cannot prove ..."). `otherName` names the side not pointed into in messages.
 */
export function subsetBreaks(
  narrower: JsonSchema,
  wider: JsonSchema,
  pointInto: "wider" | "narrower",
  otherName = "the old schema",
): SchemaProblem[] {
  const named = (root: JsonSchema, pointed: boolean) => ({
    root,
    name: pointed ? "the new schema" : otherName,
  });
  return subsetProblems(
    named(narrower, pointInto === "narrower"),
    named(wider, pointInto === "wider"),
    pointInto === "wider" ? "w" : "n",
  );
}

/** `history`: the type's existing versions, oldest first (non-empty). The problems point into `candidate`. */
export function checkCompatibility(
  history: readonly JsonSchema[],
  candidate: JsonSchema,
  mode: CompatibilityMode,
): CompatibilityResult {
  if (mode === "NONE") return { compatible: true, errors: [] };
  const first = mode.endsWith("_TRANSITIVE") ? 0 : Math.max(history.length - 1, 0);
  const errors: SchemaProblem[] = [];
  history.forEach((old, i) => {
    if (i < first) return;
    const name = `version ${i + 1}`;
    // BACKWARD: the candidate accepts all the old version did; FORWARD: the reverse.
    if (!mode.startsWith("FORWARD")) errors.push(...subsetBreaks(old, candidate, "wider", name));
    if (!mode.startsWith("BACKWARD"))
      errors.push(...subsetBreaks(candidate, old, "narrower", name));
  });
  return { compatible: errors.length === 0, errors: dedupe(errors) };
}

/**
 * The registry's rule for `candidate` as the next version after `history` (oldest first,
 * possibly empty): a first version, or one equal to the latest, is compatible; anything
 * else is checked under `mode`.
 */
export function checkSchemaChange(
  history: readonly JsonSchema[],
  candidate: JsonSchema,
  mode: CompatibilityMode,
): CompatibilityResult {
  const latest = history.at(-1);
  if (latest === undefined || jsonEqual(latest, candidate)) return { compatible: true, errors: [] };
  return checkCompatibility(history, candidate, mode);
}
