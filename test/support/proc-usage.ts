/**
 * What a (child) process holds right now, from Linux's `/proc`: resident memory (`VmRSS` of
 * `/proc/<pid>/status`, and its peak so far, `VmHWM`) and open file descriptors (the entries
 * of `/proc/<pid>/fd`).
 */
import { readdir, readFile } from "node:fs/promises";

export interface ProcUsage {
  readonly rssKiB: number;
  readonly peakRssKiB: number;
  readonly fds: number;
}

export async function procUsage(pid: number): Promise<ProcUsage> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const fds = await readdir(`/proc/${pid}/fd`);
  return {
    rssKiB: statusKiB(status, "VmRSS", pid),
    peakRssKiB: statusKiB(status, "VmHWM", pid),
    fds: fds.length,
  };
}

function statusKiB(status: string, field: string, pid: number): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}
