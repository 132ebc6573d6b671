/** The printed table and the JSON file of one benchmark invocation. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatValue, type ScenarioResult } from "./harness.ts";
import type { MachineInfo } from "./machine.ts";
import type { Target } from "./scenarios/scenario.ts";

export interface BenchSettings {
  readonly subjects: readonly string[];
  readonly engine: string;
  readonly fsync: string;
  readonly schemas: string;
  /** Absent in reports from before `--tracing`. */
  readonly tracing?: boolean;
  /** Absent in reports from before `--payload`. */
  readonly payload?: string;
  /** `--linger`; null: the SDK's default. Absent in reports from before `--linger`. */
  readonly lingerMs?: number | null;
  readonly runs: number;
  readonly quick: boolean;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly settings: BenchSettings;
  readonly results: readonly ScenarioResult[];
}

export function formatReport(report: BenchReport): string {
  const { machine, settings } = report;
  const header = [
    `machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}, commit ${machine.commit}, load average ${machine.loadAverage}`,
    `settings: engine ${settings.engine}, fsync ${settings.fsync}, schemas ${settings.schemas}${settings.tracing ? ", tracing on" : ""}${settings.payload && settings.payload !== "plain" ? `, payload ${settings.payload}` : ""}${settings.lingerMs != null ? `, linger ${settings.lingerMs} ms` : ""}, median of ${settings.runs} run(s)${settings.quick ? ", QUICK (smoke sizes, not a measurement)" : ""}`,
    "",
  ];
  const rows = report.results.map((r) => [
    r.title,
    r.subject,
    resultCell(r),
    targetCell(r.target, r.unit),
    r.error ? "error" : r.verdict,
    cpuCell(r.details),
  ]);
  const head = [
    "scenario",
    "system",
    "result (median)",
    "target",
    "verdict",
    "CPU: system µs/event, system %, bench %, system starved %",
  ];
  return [...header, ...table(head, rows)].join("\n");
}

function resultCell(result: ScenarioResult): string {
  if (result.error) return "failed";
  const ratio = result.ratio === undefined ? "" : ` (${(result.ratio * 100).toFixed(1)}%)`;
  const details = Object.entries(result.details)
    .filter(([name]) => /^p\d+$/.test(name))
    .map(([name, value]) => `${name} ${typeof value === "number" ? formatValue(value) : value}`);
  const extra = details.length > 0 ? ` [${details.join(", ")}]` : "";
  return `${formatValue(result.median)} ${result.unit}${ratio}${extra}`;
}

/**
 * CPU per event and utilisation (100% = one core) of the system and of the bench process, and
 * how long the system's event loop waited for a CPU taken by other work (high = noisy figure).
 */
function cpuCell(details: Readonly<Record<string, number | string>>): string {
  const { systemCpuUsPerEvent, systemCpuPercent, benchCpuPercent, systemStarvedPercent } = details;
  const numbers = [systemCpuUsPerEvent, systemCpuPercent, benchCpuPercent, systemStarvedPercent];
  if (!numbers.every((n) => typeof n === "number")) return "";
  const [perEvent, system, bench, starved] = numbers as number[];
  return `${perEvent?.toFixed(1)} µs, ${system?.toFixed(0)}%, ${bench?.toFixed(0)}%, ${starved?.toFixed(0)}%`;
}

function targetCell(target: Target, unit: string): string {
  const op = target.op === ">=" ? "≥" : "≤";
  if (target.relativeTo !== undefined)
    return `${op} ${target.value * 100}% of ${target.relativeTo}`;
  return `${op} ${formatValue(target.value)} ${unit}`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(head), rule, ...rows.map(line)];
}

/** Writes `<dir>/<timestamp>.json` and answers its path. */
export function writeReport(report: BenchReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${report.startedAt.replaceAll(":", "-")}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
