/**
 * What a (child) process holds right now, from Linux's `/proc`: resident memory (`VmRSS` of
 * `/proc/<pid>/status`) and open file descriptors (the entries of `/proc/<pid>/fd`).
 */
import { readdir, readFile } from "node:fs/promises";

export interface ProcUsage {
  readonly rssKiB: number;
  readonly fds: number;
}

export async function procUsage(pid: number): Promise<ProcUsage> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!rss?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  const fds = await readdir(`/proc/${pid}/fd`);
  return { rssKiB: Number(rss[1]), fds: fds.length };
}
