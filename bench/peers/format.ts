/** The `bench:peers` table (printed and in docs/benchmarks.md) and the docs section around it. */
import { formatValue } from "../harness.ts";
import type { PeerRow, PeersReport } from "./model.ts";
import { formatRatio } from "./ratio.ts";

export const SECTION_START = "<!-- bench:peers start (written by npm run bench:peers) -->";
export const SECTION_END = "<!-- bench:peers end -->";

export function headerLines(report: PeersReport): string[] {
  const { machine } = report;
  return [
    `machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}, load average before the run ${machine.loadAverage}`,
    `commit: ${machine.commit}; run ${report.startedAt} → ${report.finishedAt}; one run per figure, sizes ${report.quick ? "QUICK (smoke sizes, not a measurement)" : `${report.scale}× of npm run bench`}`,
    ...(busyMachine(report)
      ? [
          `WARNING: the 1-minute load average was above the core count before the run: other work shared the machine, so these are smoke figures, not a measurement`,
        ]
      : []),
  ];
}

/** Other work had the machine's cores busy when the run started. */
export function busyMachine(report: PeersReport): boolean {
  const oneMinute = Number(report.machine.loadAverage.split(" ")[0]);
  return Number.isFinite(oneMinute) && oneMinute > report.machine.cores;
}

export function notMeasuredLines(report: PeersReport): string[] {
  return report.peers
    .filter((peer) => peer.notMeasured !== undefined)
    .map((peer) => `${peer.name} (${peer.durability}): not measured: ${peer.notMeasured}`);
}

function figureCell(row: PeerRow): string {
  if (!Number.isFinite(row.value)) return `not measured: ${firstLine(row.notMeasured ?? "")}`;
  const percentiles = Object.entries(row.details)
    .filter(([name]) => name === "p50")
    .map(([name, value]) => `${name} ${typeof value === "number" ? formatValue(value) : value}`);
  const extra = percentiles.length > 0 ? ` (${percentiles.join(", ")})` : "";
  return `${formatValue(row.value)} ${row.unit}${extra}`;
}

function cpuCell(row: PeerRow): string {
  const perEvent = row.details.systemCpuUsPerEvent;
  return typeof perEvent === "number" && Number.isFinite(perEvent) ? perEvent.toFixed(1) : "";
}

export function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").slice(0, 160);
}

/** The side-by-side table, Markdown (it reads as well in a terminal). */
export function peersTable(rows: readonly PeerRow[]): string[] {
  const head = [
    "scenario",
    "system",
    "durability",
    "figure",
    "× best at equal durability",
    "system CPU µs/event",
  ];
  const cells = rows.map((row) => [
    row.title,
    row.subject,
    row.durability,
    figureCell(row),
    Number.isFinite(row.ratio)
      ? `${formatRatio(row.ratio)}${row.bestAtEqualDurability === row.subject ? " (best)" : ` of ${row.bestAtEqualDurability}`}`
      : "—",
    cpuCell(row),
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...cells.map((row) => (row[i] ?? "").length)),
  );
  const line = (values: readonly string[]): string =>
    `| ${values.map((value, i) => value.replaceAll("|", "/").padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(head), rule, ...cells.map(line)];
}

/** The docs section: conditions, the table, who was not measured, the chart. */
export function peersSection(report: PeersReport, chartPath: string): string {
  const notMeasured = notMeasuredLines(report);
  return [
    SECTION_START,
    ...headerLines(report).map((line) => `${line}  `),
    "",
    "Ratios divide a figure by the best figure of the same scenario among systems of equal",
    "durability (acknowledged after an fsync, or before one): below 1× is slower for",
    "throughputs, above 1× is slower for latencies.",
    "",
    ...peersTable(report.rows),
    "",
    ...(notMeasured.length > 0 ? [...notMeasured.map((line) => `- ${line}`), ""] : []),
    `![bench:peers chart](${chartPath})`,
    SECTION_END,
  ].join("\n");
}

/** `doc` with its bench:peers section replaced by `section` (appended when absent). */
export function replaceSection(doc: string, section: string): string {
  const start = doc.indexOf(SECTION_START);
  const end = doc.indexOf(SECTION_END);
  if (start === -1 || end === -1 || end < start) return `${doc.trimEnd()}\n\n${section}\n`;
  return `${doc.slice(0, start)}${section}${doc.slice(end + SECTION_END.length)}`;
}
