/**
 * What a request could have written, read straight from the store: every topic's config
 * and stats (events, bytes, first and last offset), every subscription's stored config
 * (secrets and pause included) and cursor stats (position, lag, in-flight, delivered, acked,
 * dead-lettered), and the schema registry's records. A rejected request must leave this exactly as it found it.
 */
import { isDeepStrictEqual } from "node:util";
import type { Engine } from "../../src/engine/engine.js";

export interface StateSnapshot {
  readonly topics: readonly unknown[];
  readonly subscriptions: readonly unknown[];
  /** The schema registry's Catalog records (each write gives a record a new revision). */
  readonly schemas: readonly unknown[];
}

export async function snapshot(engine: Engine): Promise<StateSnapshot> {
  const topics = [];
  for (const config of await engine.log.listTopics())
    topics.push({ config, stats: await engine.log.stats(config.name) });
  const subscriptions = [];
  for (const config of await engine.cursors.listSubscriptions()) {
    // The only clock-driven field: it grows while nothing is written.
    const { oldestUnackedAgeMs: _age, ...stats } = await engine.cursors.stats(config.name);
    subscriptions.push({ config, stats });
  }
  const byName = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
  const schemas = await engine.catalog.list("schemas");
  return { topics: topics.sort(byName), subscriptions: subscriptions.sort(byName), schemas };
}

export function sameState(a: StateSnapshot, b: StateSnapshot): boolean {
  return isDeepStrictEqual(a, b);
}

/** A readable account of what changed, for a failure message. */
export function stateDiff(before: StateSnapshot, after: StateSnapshot): string {
  const lines: string[] = [];
  for (const key of ["topics", "subscriptions", "schemas"] as const) {
    const was = new Set(before[key].map((x) => JSON.stringify(x)));
    const now = new Set(after[key].map((x) => JSON.stringify(x)));
    for (const x of was) if (!now.has(x)) lines.push(`- ${key}: ${x}`);
    for (const x of now) if (!was.has(x)) lines.push(`+ ${key}: ${x}`);
  }
  return lines.join("\n");
}

interface SubscriptionEntry {
  readonly config: { readonly push: { readonly paused: unknown } | null };
  readonly stats: { readonly lag: number; readonly inFlight: number };
}

/** Running push subscriptions that still have something to deliver. */
function pushBusy(state: StateSnapshot): SubscriptionEntry[] {
  return (state.subscriptions as SubscriptionEntry[]).filter(
    ({ config, stats }) =>
      config.push !== null && config.push.paused == null && (stats.lag > 0 || stats.inFlight > 0),
  );
}

/**
 * Waits until two snapshots `gapMs` apart agree and push subscriptions are idle (background
 * work a successful request started, such as a push delivery or a redrive, has finished),
 * and returns the settled one.
 */
export async function settledSnapshot(
  engine: Engine,
  gapMs = 15,
  maxMs = 10_000,
  /** What else to tell when it does not settle (e.g. the router's view of a busy push). */
  explain: () => Promise<string> = async () => "",
): Promise<StateSnapshot> {
  const deadline = Date.now() + maxMs;
  let previous = await snapshot(engine);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    const current = await snapshot(engine);
    const busy = pushBusy(current);
    if (sameState(previous, current) && busy.length === 0) return current;
    if (Date.now() > deadline)
      throw new Error(
        [
          `the router's state did not settle within ${maxMs} ms:`,
          stateDiff(previous, current),
          ...busy.map((entry) => `push still busy: ${JSON.stringify(entry)}`),
          await explain(),
        ].join("\n"),
      );
    previous = current;
  }
}
