/**
 * `npm run bench`: runs the scenarios against a Switchyard router in a child process (and,
 * with `--compare`, other brokers), prints the median of each as a table against the
 * targets, and writes the full results as JSON to `bench/results/<timestamp>.json`.
 */
import { join } from "node:path";
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
