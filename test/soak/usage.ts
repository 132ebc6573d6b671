/**
 * The soak's per-cycle samples (one per kill: taken just before it, the most grown point of
 * that process), the table printed from them, and the flatness check over them.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export interface Sample {
  /** 1-based: the n-th kill (in the long form, one a minute, so the minute). */
  readonly cycle: number;
  /** Seconds since the soak started. */
  readonly atSec: number;
  readonly pid: number;
  /** How long the kill and start that began this process took (0 for the first). */
  readonly restartMs: number;
  readonly rssKiB: number;
  /** The process's peak RSS (`VmHWM`), for information: the check is on `rssKiB`. */
  readonly peakRssKiB: number;
  readonly fds: number;
  /** Bytes of files in the router's data directory. */
  readonly dataBytes: number;
  /** Events answered 201 so far. */
  readonly published: number;
  /** Distinct events delivered so far to the pull consumer and to the push endpoint. */
  readonly pulled: number;
  readonly pushed: number;
  /** Dead-letter entries read so far, and dead letters matched by redrives so far. */
  readonly deadLettered: number;
  readonly redriven: number;
}

export interface FlatnessLimits {
  /** Compare this cycle's sample (1-based) with the last one. */
  readonly baselineCycle: number;
  /** The last RSS may exceed the baseline by at most this ratio. */
  readonly rssRatio: number;
  /** The last fd count may differ from the baseline by at most this many. */
  readonly fdSlack: number;
}

export const SOAK_LIMITS: FlatnessLimits = { baselineCycle: 3, rssRatio: 0.1, fdSlack: 5 };

/** Problems with the last sample against the baseline one (empty when flat). */
export function checkFlat(samples: readonly Sample[], limits = SOAK_LIMITS): string[] {
  const base = samples.find((s) => s.cycle === limits.baselineCycle);
  const last = samples.at(-1);
  if (!base || !last || last === base)
    return [`need samples past cycle ${limits.baselineCycle}, have ${samples.length}`];
  const problems: string[] = [];
  const rssLimit = base.rssKiB * (1 + limits.rssRatio);
  if (last.rssKiB > rssLimit)
    problems.push(
      `RSS grew: cycle ${last.cycle} ${mib(last.rssKiB)} MiB > cycle ${base.cycle} ${mib(base.rssKiB)} MiB + ${limits.rssRatio * 100}%`,
    );
  if (Math.abs(last.fds - base.fds) > limits.fdSlack)
    problems.push(
      `open fds moved: cycle ${last.cycle} ${last.fds} vs cycle ${base.cycle} ${base.fds} (±${limits.fdSlack} allowed)`,
    );
  return problems;
}

export function usageTable(samples: readonly Sample[]): string {
  const header = [
    "cycle",
    "at s",
    "pid",
    "restart s",
    "RSS MiB",
    "peak MiB",
    "fds",
    "data MiB",
    "published",
    "pulled",
    "pushed",
    "dead-lettered",
    "redriven",
  ];
  const rows = samples.map((s) => [
    String(s.cycle),
    s.atSec.toFixed(0),
    String(s.pid),
    (s.restartMs / 1000).toFixed(1),
    mib(s.rssKiB),
    mib(s.peakRssKiB),
    String(s.fds),
    (s.dataBytes / 1024 / 1024).toFixed(1),
    String(s.published),
    String(s.pulled),
    String(s.pushed),
    String(s.deadLettered),
    String(s.redriven),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** The total size of the files under `dir`. */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile())
      total += await stat(join(entry.parentPath, entry.name)).then(
        (s) => s.size,
        () => 0, // removed while we looked (a WAL checkpoint, a segment compacted)
      );
  return total;
}

function mib(kib: number): string {
  return (kib / 1024).toFixed(1);
}
