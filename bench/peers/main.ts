/**
 * `npm run bench:peers`: the same scenarios, in one run, against Switchyard (SQLite at both
 * fsync modes, the NATS engine), raw JetStream, RabbitMQ classic and quorum queues and Redis
 * Streams at two AOF fsync policies. Prints one table whose every row names its durability
 * and compares each figure with the best peer of equal durability; writes the JSON to
 * bench/results/, the chart to docs/benchmarks-peers.svg and the table into
 * docs/benchmarks.md. A peer that cannot run here is reported as "not measured: why"; it
 * never fails the run.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runAll, type ScenarioResult } from "../harness.ts";
import { machineInfo } from "../machine.ts";
import { drain } from "../scenarios/drain.ts";
import { fanout } from "../scenarios/fanout.ts";
import { latency } from "../scenarios/latency.ts";
import { publishBatched } from "../scenarios/publish.ts";
import { publishHttp } from "../scenarios/publish-http.ts";
import type { Scenario } from "../scenarios/scenario.ts";
import {
  busyMachine,
  firstLine,
  headerLines,
  notMeasuredLines,
  peersSection,
  peersTable,
  replaceSection,
} from "./format.ts";
import type { PeerStatus, PeersReport } from "./model.ts";
import { type Peer, peers } from "./peers.ts";
import { toRows } from "./rows.ts";
import { peersSvg } from "./svg.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
/** Push scenarios are left out: only Switchyard has push delivery. */
const SCENARIOS: readonly Scenario[] = [publishBatched, publishHttp, latency, drain, fanout];
/** Eight systems × five scenarios in ~10 minutes: a fifth of `npm run bench`'s sizes. */
const FULL_SCALE = 0.2;
/**
 * A peer is only started while the run is inside its budget (each scenario is bounded in
 * time too); the ones left are reported as not measured.
 */
const BUDGET_MS = { full: 10 * 60_000, quick: 2.5 * 60_000 };

const USAGE = `usage: npm run bench:peers -- [options]
  --quick            smoke sizes (under 2 minutes): checks the harness, measures nothing
  --only LIST        only these systems (comma-separated names as in the table)
  --out DIR          where the JSON goes (default bench/results)
  --docs DIR         where the chart and benchmarks.md are written (default docs)
  --no-docs          leave docs/ alone
  --from-json FILE   measure nothing: print and write the docs of an earlier run's JSON
  --data-root DIR    where data directories are created (default the OS temp dir)
  --help`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string", default: "" },
      out: { type: "string", default: join(ROOT, "bench/results") },
      docs: { type: "string", default: join(ROOT, "docs") },
      "no-docs": { type: "boolean", default: false },
      "data-root": { type: "string", default: tmpdir() },
      "from-json": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values["from-json"] !== undefined) {
    const report = readReport(values["from-json"]);
    print(report);
    if (!values["no-docs"]) writeDocs(report, resolve(values.docs));
    return 0;
  }
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  const only = values.only.split(",").filter((name) => name.length > 0);
  const selected = peers(resolve(values["data-root"])).filter(
    (peer) => only.length === 0 || only.includes(peer.subject.name),
  );
  const scale = values.quick ? 1 : FULL_SCALE;
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const statuses: PeerStatus[] = [];
  const measured: { subject: string; results: ScenarioResult[] }[] = [];
  // Interrupted: still delete the RabbitMQ vhosts (the brokers the bench started die with it).
  process.once("SIGINT", () => {
    void Promise.allSettled(selected.map((peer) => peer.subject.dispose?.())).then(() =>
      process.exit(130),
    );
  });
  const budgetMs = values.quick ? BUDGET_MS.quick : BUDGET_MS.full;
  const started = performance.now();
  for (const peer of selected) {
    const status = { name: peer.subject.name, ...durabilityOf(peer) };
    const overBudget = performance.now() - started > budgetMs;
    const reason = overBudget
      ? `the run's ${budgetMs / 60_000}-minute budget was used up before its turn`
      : await peer.unavailable().catch((error: unknown) => String(error));
    if (reason !== undefined) {
      log(`${peer.subject.name}: not measured: ${reason}`);
      statuses.push({ ...status, notMeasured: reason });
      continue;
    }
    const results = await runAll(SCENARIOS, [peer.subject], {
      runs: 1,
      quick: values.quick,
      scale,
      log,
    });
    await peer.subject.dispose?.().catch((error: unknown) => log(`dispose: ${String(error)}`));
    const failures = results.filter((r) => r.error !== undefined);
    const allFailed = failures.length === results.length;
    statuses.push(
      allFailed ? { ...status, notMeasured: firstLine(failures[0]?.error ?? "") } : status,
    );
    measured.push({ subject: peer.subject.name, results });
  }
  const report: PeersReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    quick: values.quick,
    scale,
    peers: statuses,
    rows: toRows(SCENARIOS, measured, statuses),
  };
  print(report);
  mkdirSync(values.out, { recursive: true });
  const json = join(values.out, `peers-${startedAt.replaceAll(":", "-")}.json`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults: ${json}`);
  if (!values["no-docs"]) writeDocs(report, resolve(values.docs));
  return 0;
}

function print(report: PeersReport): void {
  console.log([...headerLines(report), "", ...peersTable(report.rows)].join("\n"));
  for (const line of notMeasuredLines(report)) console.log(line);
}

/** A report written earlier; JSON wrote its unmeasured figures (NaN) as null. */
function readReport(path: string): PeersReport {
  const report = JSON.parse(readFileSync(path, "utf8")) as PeersReport;
  const number = (value: number | null): number => value ?? Number.NaN;
  return {
    ...report,
    rows: report.rows.map((row) => ({
      ...row,
      value: number(row.value),
      ratio: number(row.ratio),
    })),
  };
}

function durabilityOf(peer: Peer): Pick<PeerStatus, "durability" | "durabilityClass"> {
  return { durability: peer.durability, durabilityClass: peer.durabilityClass };
}

function writeDocs(report: PeersReport, docs: string): void {
  mkdirSync(docs, { recursive: true });
  const chart = join(docs, "benchmarks-peers.svg");
  const caption = `bench:peers, commit ${report.machine.commit}, ${report.machine.cores} cores, ${report.startedAt.slice(0, 10)}${report.quick ? " — QUICK smoke sizes, not a measurement" : ""}${busyMachine(report) ? ` — load average ${report.machine.loadAverage.split(" ")[0]} before the run: smoke figures` : ""}`;
  writeFileSync(chart, peersSvg(report.rows, caption));
  const page = join(docs, "benchmarks.md");
  let doc = "# Benchmarks\n";
  try {
    doc = readFileSync(page, "utf8");
  } catch {
    // a docs dir of its own (--docs): start the page
  }
  writeFileSync(page, replaceSection(doc, peersSection(report, relative(docs, chart))));
  console.log(`chart: ${chart}\ndocs: ${page}`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    console.error("(npm run bench:peers -- --help lists the options)");
    process.exitCode = 2;
  },
);
