/** The report's rows: one per scenario and system, unmeasured ones included, with ratios. */

import type { ScenarioResult } from "../harness.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import { firstLine } from "./format.ts";
import type { PeerRow, PeerStatus } from "./model.ts";
import { ratiosToBest } from "./ratio.ts";

/** Scenario-major rows (each scenario's systems together), with the ratios filled in. */
export function toRows(
  scenarios: readonly Scenario[],
  measured: readonly { readonly subject: string; readonly results: readonly ScenarioResult[] }[],
  statuses: readonly PeerStatus[],
): PeerRow[] {
  const rows: Omit<PeerRow, "ratio" | "bestAtEqualDurability">[] = [];
  for (const scenario of scenarios) {
    for (const status of statuses) {
      const result = measured
        .find((m) => m.subject === status.name)
        ?.results.find((r) => r.scenario === scenario.name);
      const why = result?.error ?? status.notMeasured ?? "not run";
      rows.push({
        scenario: scenario.name,
        title: scenario.title,
        unit: scenario.unit,
        higherIsBetter: scenario.target.op === ">=",
        subject: status.name,
        durability: status.durability,
        durabilityClass: status.durabilityClass,
        value: result?.median ?? Number.NaN,
        details: result?.details ?? {},
        ...(result !== undefined && Number.isFinite(result.median)
          ? {}
          : { notMeasured: firstLine(why) }),
      });
    }
  }
  const ratios = ratiosToBest(rows);
  return rows.map((row, i) => ({
    ...row,
    ratio: ratios[i]?.ratio ?? Number.NaN,
    bestAtEqualDurability: ratios[i]?.best,
  }));
}
