/** Runs scenarios N times against each subject and reduces every scenario to its median. */
import type {
  Measurement,
  Scenario,
  ScenarioContext,
  Target,
  Trial,
} from "./scenarios/scenario.ts";
import { median } from "./stats.ts";
import type { BenchSubject } from "./subjects/subject.ts";

export type Verdict = "pass" | "miss" | "n/a";

export interface ScenarioResult {
  readonly scenario: string;
  readonly title: string;
  readonly subject: string;
  readonly unit: string;
  readonly target: Target;
  /** Every run's measurement, in run order. */
  readonly runs: readonly Measurement[];
  /** Median of the runs' values (NaN when the scenario failed). */
  readonly median: number;
  /** Details of the run whose value is closest to the median. */
  readonly details: Readonly<Record<string, number | string>>;
  /** For relative targets: median / the reference scenario's median. */
  ratio?: number;
  verdict: Verdict;
  readonly error?: string;
}

export interface HarnessOptions {
  readonly runs: number;
  readonly quick: boolean;
  /** See `ScenarioContext.scale`. */
  readonly scale?: number;
  readonly log: (message: string) => void;
}

/** Every scenario on every subject; a scenario that throws is reported, and the rest still run. */
export async function runAll(
  scenarios: readonly Scenario[],
  subjects: readonly BenchSubject[],
  options: HarnessOptions,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const subject of subjects) {
    const context: ScenarioContext = {
      subject,
      quick: options.quick,
      ...(options.scale === undefined ? {} : { scale: options.scale }),
      log: options.log,
    };
    for (const scenario of scenarios) results.push(await runScenario(scenario, context, options));
  }
  judge(results);
  return results;
}

async function runScenario(
  scenario: Scenario,
  context: ScenarioContext,
  options: HarnessOptions,
): Promise<ScenarioResult> {
  const base = {
    scenario: scenario.name,
    title: scenario.title,
    subject: context.subject.name,
    unit: scenario.unit,
    target: scenario.target,
  };
  const runs: Measurement[] = [];
  try {
    await measureRuns(scenario, context, options, runs);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    options.log(`${scenario.name}: FAILED: ${message}`);
    return { ...base, runs, median: Number.NaN, details: {}, verdict: "n/a", error: message };
  }
  const value = median(runs.map((run) => run.value));
  return { ...base, runs, median: value, details: closestTo(runs, value).details, verdict: "n/a" };
}

async function measureRuns(
  scenario: Scenario,
  context: ScenarioContext,
  options: HarnessOptions,
  runs: Measurement[],
): Promise<void> {
  let shared: Trial | undefined;
  try {
    for (let run = 1; run <= options.runs; run++) {
      context.log(`${scenario.name} [${context.subject.name}] run ${run}/${options.runs}`);
      const trial = shared ?? (await scenario.open(context));
      if (scenario.setup === "shared") shared = trial;
      try {
        const measurement = await trial.measure();
        context.log(`  → ${formatValue(measurement.value)} ${scenario.unit}`);
        runs.push(measurement);
      } finally {
        if (scenario.setup === "per-run") await trial.close();
      }
    }
  } finally {
    await shared?.close();
  }
}

function closestTo(runs: readonly Measurement[], value: number): Measurement {
  let best = runs[0] ?? { value, details: {} };
  for (const run of runs)
    if (Math.abs(run.value - value) < Math.abs(best.value - value)) best = run;
  return best;
}

/** Sets each result's verdict; relative targets compare with the same subject's reference. */
function judge(results: ScenarioResult[]): void {
  for (const result of results) {
    let goal = result.target.value;
    if (result.target.relativeTo !== undefined) {
      const reference = results.find(
        (r) => r.scenario === result.target.relativeTo && r.subject === result.subject,
      );
      if (!reference || !Number.isFinite(reference.median)) continue;
      result.ratio = result.median / reference.median;
      goal *= reference.median;
    }
    if (!Number.isFinite(result.median)) continue;
    const met = result.target.op === ">=" ? result.median >= goal : result.median <= goal;
    result.verdict = met ? "pass" : "miss";
  }
}

/** Figures with a sensible number of digits: 152340 → "152,340", 3.456 → "3.46". */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return "—";
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(2);
}
