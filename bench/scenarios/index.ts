import { drain } from "./drain.ts";
import { fanout } from "./fanout.ts";
import { latency } from "./latency.ts";
import { publishBatched, publishLargeLog } from "./publish.ts";
import { publishHttp } from "./publish-http.ts";
import { pushBatched, pushDeliveries, pushLatency } from "./push.ts";
import type { Scenario } from "./scenario.ts";

/** Every scenario, in run order (publish-10m after publish-batched: it is judged against it). */
export const SCENARIOS: readonly Scenario[] = [
  publishBatched,
  publishHttp,
  latency,
  drain,
  fanout,
  pushDeliveries,
  pushBatched,
  pushLatency,
  publishLargeLog,
];

/** The scenarios `names` selects (all when empty); unknown names throw. */
export function selectScenarios(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...SCENARIOS];
  return names.map((name) => {
    const scenario = SCENARIOS.find((s) => s.name === name);
    if (!scenario)
      throw new Error(
        `unknown scenario "${name}"; known: ${SCENARIOS.map((s) => s.name).join(", ")}`,
      );
    return scenario;
  });
}
