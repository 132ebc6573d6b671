/**
 * The side-by-side chart as SVG text (no chart library): one panel per scenario, one
 * horizontal bar per system, scaled to the panel's largest figure, coloured by durability.
 */
import { formatValue } from "../harness.ts";
import type { PeerRow } from "./model.ts";
import { formatRatio } from "./ratio.ts";

const WIDTH = 960;
const LABEL_WIDTH = 430;
const BAR_MAX = 360;
const BAR_HEIGHT = 16;
const ROW_GAP = 6;
const PANEL_TITLE = 28;
const PANEL_GAP = 18;
const MARGIN = 16;
export const COLOURS = { sync: "#2f6db5", interval: "#d9822b" } as const;

export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** The chart of `rows` (unmeasured rows are listed with "not measured" instead of a bar). */
export function peersSvg(rows: readonly PeerRow[], caption: string): string {
  const scenarios = [...new Set(rows.map((row) => row.scenario))];
  const parts: string[] = [];
  let y = MARGIN;
  parts.push(text(MARGIN, y + 14, caption, "font-size:13px;fill:#444"));
  y += 24;
  parts.push(legend(y));
  y += 28;
  for (const scenario of scenarios) {
    const panel = rows.filter((row) => row.scenario === scenario);
    const first = panel[0];
    if (first === undefined) continue;
    const direction = first.higherIsBetter ? "higher is better" : "lower is better";
    parts.push(
      text(MARGIN, y + 18, `${first.title} — ${first.unit}, ${direction}`, "font-weight:bold"),
    );
    y += PANEL_TITLE;
    const max = Math.max(0, ...panel.map((row) => (Number.isFinite(row.value) ? row.value : 0)));
    for (const row of panel) {
      const label = `${row.subject} — ${row.durability}`;
      parts.push(text(MARGIN, y + BAR_HEIGHT - 3, truncate(label, 70), "font-size:11px"));
      if (Number.isFinite(row.value) && max > 0) {
        const width = Math.max(1, (row.value / max) * BAR_MAX);
        parts.push(
          `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLOURS[row.durabilityClass]}"/>`,
        );
        const figure = `${formatValue(row.value)} (${formatRatio(row.ratio)} best)`;
        parts.push(text(LABEL_WIDTH + width + 6, y + BAR_HEIGHT - 3, figure, "font-size:11px"));
      } else {
        const why = `not measured${row.notMeasured ? `: ${row.notMeasured}` : ""}`;
        parts.push(
          text(LABEL_WIDTH, y + BAR_HEIGHT - 3, truncate(why, 80), "font-size:11px;fill:#999"),
        );
      }
      y += BAR_HEIGHT + ROW_GAP;
    }
    y += PANEL_GAP;
  }
  const height = y + MARGIN;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">`,
    `<title id="title">${escapeXml(CHART_TITLE)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

const CHART_TITLE =
  "Switchyard and its peers per scenario: each bar a system's figure, as a ratio to the best at equal durability";

function legend(y: number): string {
  const entries: [string, string][] = [
    [COLOURS.sync, "acknowledged after fsync"],
    [COLOURS.interval, "acknowledged before fsync (synced on an interval)"],
  ];
  let x = MARGIN;
  return entries
    .map(([colour, label]) => {
      const item = `<rect x="${x}" y="${y}" width="12" height="12" fill="${colour}"/>${text(x + 18, y + 11, label, "font-size:11px")}`;
      x += 24 + label.length * 6.5;
      return item;
    })
    .join("");
}

function text(x: number, y: number, content: string, style: string): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" style="${style}">${escapeXml(content)}</text>`;
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
