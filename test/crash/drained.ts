import { expect } from "vitest";
import { eventually } from "../support/eventually.js";
import { callUntilAnswered } from "./http.js";
import { type LoadLoops, withDiagnosis } from "./load-loops.js";

/**
 * Waits until `delivered()` distinct events reached the subscription's consumer (all
 * `confirmed` of them) and the subscription has nothing left (no lag, nothing in flight).
 */
export async function drained(
  url: string,
  name: string,
  delivered: () => number,
  confirmed: number,
  loops: LoadLoops,
  diagnose: () => Promise<string>,
  timeoutMs = 60_000,
): Promise<void> {
  const everythingDelivered = eventually(
    () => {
      loops.throwIfFailed();
      expect(delivered(), `distinct events delivered to ${name}`).toBe(confirmed);
    },
    { timeoutMs, intervalMs: 100 },
  );
  await withDiagnosis(everythingDelivered, diagnose);
  const nothingLeft = eventually(
    async () => {
      const sub = (await callUntilAnswered(
        `${url}/v1/subscriptions/${name}`,
        "GET",
        undefined,
        [200],
      )) as {
        stats: { lag: number; inFlight: number };
      };
      expect(sub.stats).toMatchObject({ lag: 0, inFlight: 0 });
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  await withDiagnosis(nothingLeft, diagnose);
}
