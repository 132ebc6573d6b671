/** Human-readable output: sizes, counts, durations, times, tables, colour and progress bars. */

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** 950 → "950 ms", 12_300 → "12.3 s", 30_000 → "30 s", 200_000 → "3m 20s", 90_000_000 → "1d 1h". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) {
    if (ms % 1_000 === 0) return `${ms / 1_000} s`;
    return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  }
  const s = Math.round(ms / 1_000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  const rest = s % 60;
  return rest > 0 ? `${m}m ${rest}s` : `${m}m`;
}

/** An RFC 3339 time as local "YYYY-MM-DD HH:MM:SS.mmm". */
export function formatTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  return `${date} ${time}.${pad(at.getMilliseconds(), 3)}`;
}

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  readonly align?: "left" | "right";
}

/** A plain-text table: a header row, then one line per row, columns padded to fit. */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => (r[i] ?? "").length)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => {
        const width = widths[i] ?? 0;
        return columns[i]?.align === "right" ? v.padStart(width) : v.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}

/** "key   value" lines, keys padded to one width. */
export function renderPairs(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

/** `[#########-----------]` for a fraction between 0 and 1. */
export function progressBar(fraction: number, width = 24): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const done = Math.round(clamped * width);
  return `[${"#".repeat(done)}${"-".repeat(width - done)}]`;
}

export interface Writable {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * One status line on a terminal, rewritten in place (at most every `everyMs`); on a pipe or
 * file nothing is drawn, so logs hold only the final summary the caller prints.
 */
export class ProgressLine {
  readonly #out: Writable;
  readonly #everyMs: number;
  #last = 0;
  #drawn = false;

  constructor(out: Writable, everyMs = 100) {
    this.#out = out;
    this.#everyMs = everyMs;
  }

  update(text: string, force = false): void {
    if (!this.#out.isTTY) return;
    const now = Date.now();
    if (!force && now - this.#last < this.#everyMs) return;
    this.#last = now;
    this.#out.write(`\r\x1b[2K${text}`);
    this.#drawn = true;
  }

  /** Erases the line if one was drawn. */
  clear(): void {
    if (this.#drawn) this.#out.write("\r\x1b[2K");
    this.#drawn = false;
  }
}

const COLOURS = { dim: 2, bold: 1, red: 31, green: 32, yellow: 33, blue: 34, cyan: 36 } as const;
export type Colour = keyof typeof COLOURS;

/** Colours text only for a terminal, and never when NO_COLOR is set. */
export function painter(out: Writable, env: NodeJS.ProcessEnv = process.env) {
  const enabled = out.isTTY === true && !env.NO_COLOR;
  return (colour: Colour, text: string): string =>
    enabled ? `\x1b[${COLOURS[colour]}m${text}\x1b[0m` : text;
}
