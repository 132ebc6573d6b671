/** The push attempt log as the subscription page charts and summarises it. */

export interface Attempt {
  readonly eventId: string;
  readonly attempt: number;
  readonly at: string;
  /** null when no HTTP answer came (timeout, refused connection). */
  readonly status: number | null;
  readonly latencyMs: number;
  readonly error?: string;
}

/** The router's own rule: a push succeeded when the endpoint answered 2xx. */
export const succeeded = (a: Attempt): boolean =>
  a.status !== null && a.status >= 200 && a.status < 300;

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function summary(attempts: readonly Attempt[]): string {
  if (attempts.length === 0) return "No attempts yet.";
  const failed = attempts.filter((a) => !succeeded(a)).length;
  const m = median(attempts.map((a) => a.latencyMs)) ?? 0;
  const n = attempts.length;
  return `${n} attempt${n === 1 ? "" : "s"}, ${failed} failed, median latency ${Math.round(m)} ms`;
}

/**
 * uPlot's columns: times in seconds (ascending; the log answers newest first), then the
 * latency of each attempt in the series of its outcome and null in the other.
 */
export function chartColumns(
  attempts: readonly Attempt[],
): [number[], (number | null)[], (number | null)[]] {
  const ordered = [...attempts].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return [
    ordered.map((a) => Date.parse(a.at) / 1000),
    ordered.map((a) => (succeeded(a) ? a.latencyMs : null)),
    ordered.map((a) => (succeeded(a) ? null : a.latencyMs)),
  ];
}
