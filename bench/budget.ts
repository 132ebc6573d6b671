/**
 * The CPU budget: router CPU µs/event per budget scenario, judged against a committed
 * baseline (`bench/baseline.json`). A figure more than `tolerance` above its baseline is a
 * regression and fails the run. This module is the judgement and the file format only; the
 * measuring is `bench/budget-run.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { MachineInfo } from "./machine.ts";

/** Fails a figure more than 25% above its baseline (CI's default). */
export const DEFAULT_TOLERANCE = 0.25;

export interface BudgetFigure {
  /** Median router CPU µs per event over the counted runs. */
  readonly cpuUsPerEvent: number;
  /** Every counted run's figure, in run order (warm-up runs left out). */
  readonly runs: readonly number[];
  /** Events (or requests, deliveries) each run counted. */
  readonly events: number;
  /** Median share of wall time the router waited for a CPU: high means a noisy figure. */
  readonly starvedPercent: number;
}

export interface Baseline {
  /** What the file is and how to refresh it, for a reader of the JSON. */
  readonly about: string;
  readonly producedAt: string;
  /** The command that wrote the file. */
  readonly command: string;
  /** The machine and commit the figures were measured on. */
  readonly machine: MachineInfo;
  readonly tolerance: number;
  readonly scenarios: Readonly<Record<string, BudgetFigure>>;
}

export type BudgetVerdict = "pass" | "regressed" | "no baseline" | "not measured";

export interface BudgetRow {
  readonly scenario: string;
  readonly baseline: number | undefined;
  readonly measured: number | undefined;
  /** measured / baseline, when both are known. */
  readonly ratio: number | undefined;
  readonly verdict: BudgetVerdict;
}

export interface BudgetJudgement {
  readonly rows: readonly BudgetRow[];
  /** Baseline scenarios the budget no longer measures (refresh the baseline to drop them). */
  readonly stale: readonly string[];
  readonly ok: boolean;
}

/**
 * Judges `measured` (scenario → figure; NaN or absent when the scenario failed) against
 * `baseline`: every measured scenario must have a baseline and stay within `tolerance` of it.
 */
export function judgeBudget(
  baseline: Pick<Baseline, "scenarios">,
  measured: Readonly<Record<string, number>>,
  tolerance: number,
): BudgetJudgement {
  const rows = Object.entries(measured).map(([scenario, value]): BudgetRow => {
    const reference = baseline.scenarios[scenario]?.cpuUsPerEvent;
    const figure = Number.isFinite(value) && value > 0 ? value : undefined;
    if (figure === undefined)
      return {
        scenario,
        baseline: reference,
        measured: undefined,
        ratio: undefined,
        verdict: "not measured",
      };
    if (reference === undefined)
      return {
        scenario,
        baseline: undefined,
        measured: figure,
        ratio: undefined,
        verdict: "no baseline",
      };
    const ratio = figure / reference;
    const verdict = ratio > 1 + tolerance ? "regressed" : "pass";
    return { scenario, baseline: reference, measured: figure, ratio, verdict };
  });
  const stale = Object.keys(baseline.scenarios).filter((name) => !(name in measured));
  return { rows, stale, ok: rows.every((row) => row.verdict === "pass") };
}

/** The budget as a table, one row per scenario, and what to do about a failure. */
export function formatBudget(judgement: BudgetJudgement, tolerance: number): string {
  const cell = (n: number | undefined) => (n === undefined ? "—" : n.toFixed(2));
  const head = ["budget scenario", "baseline µs/event", "measured µs/event", "ratio", "verdict"];
  const rows = judgement.rows.map((row) => [
    row.scenario,
    cell(row.baseline),
    cell(row.measured),
    row.ratio === undefined ? "—" : `${row.ratio.toFixed(2)}×`,
    row.verdict,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const out = [
    `CPU budget: router CPU µs/event may be at most ${((1 + tolerance) * 100).toFixed(0)}% of the baseline`,
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
  ];
  if (judgement.stale.length > 0)
    out.push(`baseline scenarios no longer measured: ${judgement.stale.join(", ")}`);
  out.push(
    judgement.ok
      ? "budget: within the baseline"
      : "budget: FAILED. A real cost increase: fix it, or if it is intended, refresh the baseline with `npm run bench -- --update-baseline` and commit bench/baseline.json with the reason",
  );
  return out.join("\n");
}

/** Reads and checks a baseline file; a missing or malformed one throws a one-line message. */
export function readBaseline(path: string): Baseline {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(
      `no budget baseline at ${path}: write one with \`npm run bench -- --update-baseline\``,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON: ${error instanceof Error ? error.message : error}`);
  }
  const problem = baselineProblem(parsed);
  if (problem !== undefined) throw new Error(`${path} is not a budget baseline: ${problem}`);
  return parsed as Baseline;
}

function baselineProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "not an object";
  const { scenarios, tolerance } = value as Record<string, unknown>;
  if (typeof tolerance !== "number" || !(tolerance > 0))
    return "tolerance must be a positive number";
  if (typeof scenarios !== "object" || scenarios === null) return "scenarios must be an object";
  for (const [name, figure] of Object.entries(scenarios)) {
    const cpu = (figure as { cpuUsPerEvent?: unknown } | null)?.cpuUsPerEvent;
    if (typeof cpu !== "number" || !(cpu > 0))
      return `scenarios.${name}.cpuUsPerEvent must be a positive number`;
  }
  return undefined;
}

export function writeBaseline(path: string, baseline: Baseline): void {
  writeFileSync(path, `${JSON.stringify(baseline, null, 2)}\n`);
}
