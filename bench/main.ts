/**
 * `npm run bench`: runs the scenarios against a Switchyard router in a child process (and,
 * with `--compare`, other brokers), prints the median of each as a table against the
 * targets, and writes the full results as JSON to `bench/results/<timestamp>.json`.
 */
import { join } from "node:path";
import {
  type Baseline,
  DEFAULT_TOLERANCE,
  formatBudget,
  judgeBudget,
  readBaseline,
  writeBaseline,
} from "./budget.ts";
import { BUDGET, measureBudget } from "./budget-run.ts";
import { runAll } from "./harness.ts";
import { machineInfo } from "./machine.ts";
import { parseOptions, USAGE } from "./options.ts";
import { startDiscardingOtlpReceiver } from "./otlp-discard.ts";
import { type BenchReport, formatReport, writeReport } from "./report.ts";
import { selectScenarios } from "./scenarios/index.ts";
import { createSubjects } from "./subjects/index.ts";

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.budget) return budget(options);
  const scenarios = selectScenarios(options.scenarios);
  const otlp = options.tracing ? await startDiscardingOtlpReceiver() : undefined;
  const subjects = createSubjects(options.compare, {
    fsync: options.fsync,
    engine: options.engine,
    dataRoot: options.dataRoot,
    profileDir: options.profile ? join(options.out, "profiles") : undefined,
    auth: options.auth,
    schemas: options.schemas,
    payload: options.payload,
    ...(options.lingerMs === undefined ? {} : { lingerMs: options.lingerMs }),
    ...(otlp === undefined ? {} : { tracingEnv: otlp.env }),
  });
  const startedAt = new Date().toISOString();
  const machine = machineInfo(); // before the load: its load average shows other work
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  const results = await runAll(scenarios, subjects, {
    runs: options.runs,
    quick: options.quick,
    log,
  });
  for (const subject of subjects) await subject.dispose?.();
  if (otlp !== undefined) log(`tracing: the router sent ${otlp.requests()} OTLP export requests`);
  await otlp?.close();
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    settings: {
      subjects: subjects.map((s) => s.name),
      engine: options.engine,
      fsync: options.fsync,
      schemas: options.schemas,
      tracing: options.tracing,
      payload: options.payload,
      lingerMs: options.lingerMs ?? null,
      runs: options.runs,
      quick: options.quick,
    },
    results,
  };
  console.log(formatReport(report));
  console.log(`\nresults: ${writeReport(report, options.out)}`);
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

/**
 * `--budget`: router CPU µs/event of the budget scenarios against the committed baseline;
 * exit 1 on a regression. `--update-baseline`: the same measurement written as the baseline.
 */
async function budget(options: ReturnType<typeof parseOptions>): Promise<number> {
  // Read first: a missing or malformed baseline fails before a minute of measuring.
  const baseline = options.updateBaseline ? undefined : readBaseline(options.baseline);
  const machine = machineInfo();
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  const figures = await measureBudget({ dataRoot: options.dataRoot, log });
  const measured: Record<string, number> = Object.fromEntries(
    Object.entries(figures).map(([name, figure]) => [name, figure.cpuUsPerEvent]),
  );
  console.log(
    `machine: ${machine.cores} cores (${machine.cpu}), node ${machine.node}, commit ${machine.commit}, load average ${machine.loadAverage}`,
  );
  for (const [name, figure] of Object.entries(figures))
    console.log(
      `  ${name}: runs ${figure.runs.map((r) => r.toFixed(2)).join(" / ")} µs/event, ${figure.events} events a run, router starved ${figure.starvedPercent.toFixed(0)}%`,
    );
  if (baseline === undefined) {
    const failed = Object.entries(measured).filter(([, v]) => !Number.isFinite(v));
    if (failed.length > 0) {
      console.error(`not writing a baseline: ${failed.map(([n]) => n).join(", ")} failed`);
      return 1;
    }
    const written: Baseline = {
      about:
        "Router CPU µs/event per budget scenario (bench/budget-run.ts), median of the counted runs; CI fails a figure more than `tolerance` above it (test/bench/bench-budget.int.test.ts). Refresh with `npm run bench -- --update-baseline` on the CI machine and commit it with the reason.",
      producedAt: new Date().toISOString(),
      command: "npm run bench -- --update-baseline",
      machine,
      tolerance: DEFAULT_TOLERANCE,
      scenarios: figures,
    };
    writeBaseline(options.baseline, written);
    console.log(`baseline written: ${options.baseline}`);
    return 0;
  }
  if (baseline.machine.cpu !== machine.cpu)
    console.log(
      `WARNING: the baseline was measured on "${baseline.machine.cpu}", this is "${machine.cpu}": CPU µs/event differ between CPUs; refresh the baseline on this machine`,
    );
  let judgement = judgeBudget(baseline, measured, baseline.tolerance);
  // A second opinion before failing: a regressed scenario is measured once more and keeps
  // the lower median, so a burst of other work on the machine does not fail the build while
  // a real regression, above the tolerance both times, still does.
  const regressed = judgement.rows.filter((row) => row.verdict === "regressed");
  if (regressed.length > 0) {
    const names = new Set(regressed.map((row) => row.scenario));
    log(`budget: ${[...names].join(", ")} regressed; measuring once more`);
    const again = await measureBudget(
      { dataRoot: options.dataRoot, log },
      BUDGET.filter((entry) => names.has(entry.name)),
    );
    for (const [name, figure] of Object.entries(again)) {
      console.log(
        `  ${name} again: runs ${figure.runs.map((r) => r.toFixed(2)).join(" / ")} µs/event, router starved ${figure.starvedPercent.toFixed(0)}%`,
      );
      measured[name] = Math.min(measured[name] ?? Number.NaN, figure.cpuUsPerEvent);
    }
    judgement = judgeBudget(baseline, measured, baseline.tolerance);
  }
  console.log(formatBudget(judgement, baseline.tolerance));
  return judgement.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    console.error("(npm run bench -- --help lists the options)");
    process.exitCode = 2;
  },
);
