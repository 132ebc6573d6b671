/**
 * Measures the CPU budget's figures: each budget scenario against a fresh router (SQLite,
 * fsync always) at a fraction of the full sizes, several runs, router CPU µs/event of each
 * counted run, median. Sizes are chosen so that the whole budget takes about a minute on
 * the 2-core CI machine while every run still counts tens of thousands of events after its
 * warm-up (see docs/benchmarks.md, "The CPU budget").
 */
import type { BudgetFigure } from "./budget.ts";
import { runAll } from "./harness.ts";
import { startDiscardingOtlpReceiver } from "./otlp-discard.ts";
import type { Payload } from "./payload.ts";
import { drain } from "./scenarios/drain.ts";
import { publishBatched } from "./scenarios/publish.ts";
import { publishHttp } from "./scenarios/publish-http.ts";
import type { Scenario } from "./scenarios/scenario.ts";
import { median } from "./stats.ts";
import { switchyardSubject } from "./subjects/switchyard.ts";

export interface BudgetEntry {
  /** The key in bench/baseline.json. */
  readonly name: string;
  readonly scenario: Scenario;
  readonly payload: Payload;
  /** The router traces, exporting OTLP to a local receiver that discards. */
  readonly tracing: boolean;
  /** Fraction of the scenario's full sizes. */
  readonly scale: number;
}

/**
 * What the budget measures. `publish-batched` is the router's cheapest path per event;
 * `publish-traced` the same with every attribute an application sets (subject, partitionkey,
 * correlationid, traceparent) on a topic with both indexes and the router tracing;
 * `publish-http` the per-request cost; `drain` lease and ack.
 */
export const BUDGET: readonly BudgetEntry[] = [
  {
    name: "publish-batched",
    scenario: publishBatched,
    payload: "plain",
    tracing: false,
    scale: 0.2,
  },
  {
    name: "publish-traced",
    scenario: publishBatched,
    payload: "traced",
    tracing: true,
    scale: 0.2,
  },
  { name: "publish-http", scenario: publishHttp, payload: "plain", tracing: false, scale: 0.1 },
  { name: "drain", scenario: drain, payload: "plain", tracing: false, scale: 0.1 },
];

/** Counted runs per scenario; the figure is their median. */
export const BUDGET_RUNS = 5;

export interface BudgetSettings {
  readonly dataRoot: string;
  readonly log: (message: string) => void;
}

/** Every budget scenario's figure; a scenario that fails gets NaN (the judgement fails it). */
export async function measureBudget(
  settings: BudgetSettings,
  entries: readonly BudgetEntry[] = BUDGET,
): Promise<Record<string, BudgetFigure>> {
  const figures: Record<string, BudgetFigure> = {};
  for (const entry of entries) figures[entry.name] = await measureEntry(entry, settings);
  return figures;
}

async function measureEntry(entry: BudgetEntry, settings: BudgetSettings): Promise<BudgetFigure> {
  const otlp = entry.tracing ? await startDiscardingOtlpReceiver() : undefined;
  // A shared setup (one preload, measured N times) runs its JIT warm-up in the first run:
  // that run is measured but not counted. Per-run setups warm up inside each run.
  const warmupRuns = entry.scenario.setup === "shared" ? 1 : 0;
  try {
    const subject = switchyardSubject({
      fsync: "always",
      engine: "sqlite",
      dataRoot: settings.dataRoot,
      profileDir: undefined,
      payload: entry.payload,
      ...(otlp === undefined ? {} : { tracingEnv: otlp.env }),
    });
    settings.log(`budget: ${entry.name}`);
    const [result] = await runAll([entry.scenario], [subject], {
      runs: BUDGET_RUNS + warmupRuns,
      quick: false,
      scale: entry.scale,
      log: settings.log,
    });
    const counted = (result?.error === undefined ? (result?.runs ?? []) : []).slice(warmupRuns);
    const detail = (name: string) =>
      counted.map((run) => run.details[name]).filter((n): n is number => typeof n === "number");
    const cpu = detail("systemCpuUsPerEvent");
    return {
      cpuUsPerEvent: cpu.length === BUDGET_RUNS ? median(cpu) : Number.NaN,
      runs: cpu,
      events: median([...detail("events"), ...detail("requests")]),
      starvedPercent: Math.round(median(detail("systemStarvedPercent")) * 10) / 10,
    };
  } finally {
    await otlp?.close();
  }
}
