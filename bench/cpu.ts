/**
 * CPU used during a measurement, by the system under test and by the bench process. On a
 * shared 2-core machine rates move with other load; CPU per event and utilisation show
 * whether the router or the load generator was the limit.
 */
import { readFileSync } from "node:fs";

/** Cumulative user+system CPU milliseconds of a process from /proc (NaN where unavailable). */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * Milliseconds a process's main thread (the router's event loop) spent runnable but waiting
 * for a CPU: other work on the machine, not the router, during that time (NaN where unknown).
 */
export function runQueueWaitMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const [, waitingNs] = readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ");
    return Number(waitingNs) / 1e6;
  } catch {
    return Number.NaN;
  }
}

// USER_HZ: 100 on every Linux build Node supports.
const CLOCK_TICKS_PER_SECOND = 100;

export interface CpuSample {
  /** Router CPU time over wall time, in percent (100 = one core busy). */
  readonly systemCpuPercent: number;
  readonly benchCpuPercent: number;
  /** Router CPU microseconds per event (or request). */
  readonly systemCpuUsPerEvent: number;
  /** Share of wall time the router's event loop waited for a CPU held by something else. */
  readonly systemStarvedPercent: number;
}

/** What `watchCpu` reads from the system under test; cumulative milliseconds. */
export interface CpuProbe {
  cpuMs(): number;
  runQueueWaitMs(): number;
}

/** Starts watching; the returned function answers the CPU used since, per `events`. */
export function watchCpu(probe: CpuProbe): (events: number) => CpuSample {
  const wallStart = performance.now();
  const systemStart = probe.cpuMs();
  const waitStart = probe.runQueueWaitMs();
  const benchStart = process.cpuUsage();
  return (events) => {
    const wallMs = performance.now() - wallStart;
    const systemMs = probe.cpuMs() - systemStart;
    const waitedMs = probe.runQueueWaitMs() - waitStart;
    const bench = process.cpuUsage(benchStart);
    return {
      systemCpuPercent: (systemMs / wallMs) * 100,
      benchCpuPercent: ((bench.user + bench.system) / 1000 / wallMs) * 100,
      systemCpuUsPerEvent: events > 0 ? (systemMs * 1000) / events : Number.NaN,
      systemStarvedPercent: (waitedMs / wallMs) * 100,
    };
  };
}
