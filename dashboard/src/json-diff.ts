/**
 * A line diff of two JSON values for the schemas page: both pretty-printed with their keys
 * sorted (so a reordered object is not a change), then a shortest edit script (Myers) over
 * the lines, and unchanged runs longer than the context collapsed into one "skip" entry.
 */

export type DiffLine =
  | { readonly kind: "same" | "added" | "removed"; readonly text: string }
  | { readonly kind: "skip"; readonly count: number };

export interface JsonDiff {
  readonly lines: readonly DiffLine[];
  readonly added: number;
  readonly removed: number;
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((k) => [k, sorted(record[k])]),
  );
}

export function prettyLines(value: unknown): string[] {
  return (JSON.stringify(sorted(value), null, 2) ?? "undefined").split("\n");
}

/** Beyond this many edits the page shows "all removed, all added": the trace grows as d². */
export const MAX_EDITS = 2000;

/** Myers' O((n+m)·d) diff: schemas run to thousands of lines, an n·m table would not fit. */
export function lineDiff(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v[-d-1 .. d+1] as it was before step d: a row per step, not a full copy.
  const trace: Int32Array[] = [];
  const at = (row: Int32Array, d: number, k: number) => row[k + d + 1] ?? 0;
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
      let x = down ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  if (!found)
    return [
      ...a.map((text) => ({ kind: "removed" as const, text })),
      ...b.map((text) => ({ kind: "added" as const, text })),
    ];
  // Walk the trace back from (n, m), collecting the edit script in reverse.
  const out: DiffLine[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const row = trace[d] as Int32Array;
    const k = x - y;
    const down = k === -d || (k !== d && at(row, d, k - 1) < at(row, d, k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(row, d, prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      out.push({ kind: "same", text: a[x] as string });
    }
    if (d === 0) break;
    if (down) {
      y--;
      out.push({ kind: "added", text: b[y] as string });
    } else {
      x--;
      out.push({ kind: "removed", text: a[x] as string });
    }
  }
  return out.reverse();
}

/** Keeps `context` unchanged lines around each change; longer unchanged runs become a skip. */
export function collapse(lines: readonly DiffLine[], context = 3): DiffLine[] {
  const keep = lines.map((l) => l.kind !== "same");
  const changed = [...keep];
  for (let i = 0; i < lines.length; i++)
    if (changed[i])
      for (let j = Math.max(0, i - context); j <= Math.min(lines.length - 1, i + context); j++)
        keep[j] = true;
  const out: DiffLine[] = [];
  let skipped = 0;
  for (let i = 0; i < lines.length; i++) {
    if (keep[i]) {
      if (skipped > 0) out.push({ kind: "skip", count: skipped });
      skipped = 0;
      out.push(lines[i] as DiffLine);
    } else skipped++;
  }
  if (skipped > 0) out.push({ kind: "skip", count: skipped });
  return out;
}

export function jsonDiff(before: unknown, after: unknown, context = 3): JsonDiff {
  const lines = lineDiff(prettyLines(before), prettyLines(after));
  return {
    lines: collapse(lines, context),
    added: lines.filter((l) => l.kind === "added").length,
    removed: lines.filter((l) => l.kind === "removed").length,
  };
}
