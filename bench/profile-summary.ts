/**
 * `node bench/profile-summary.ts <file.cpuprofile> [top] [lastSeconds]`: where a router's time
 * went, from a profile written by `npm run bench -- --profile`. Prints self time by function
 * and by package or source folder (dist/engine, dist/server, fastify, …), largest first.
 * `lastSeconds` counts only the profile's final seconds (the measured phase after a preload).
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function area(url: string): string {
  if (url === "") return "(native/gc/idle)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] ?? url;
  const own = /\/dist\/([^/]+)/.exec(url);
  if (own) return `switchyard:${own[1]}`;
  if (url.startsWith("node:")) return url;
  return url.replace(/^file:\/\//, "");
}

function top(totals: Map<string, number>, all: number, count: number): string[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([name, us]) =>
        `${((us / all) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
    );
}

function summarise(path: string, count: number, lastSeconds: number): string {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let all = 0;
  const total = profile.timeDeltas.reduce((sum, us) => sum + us, 0);
  const skipUs = Number.isFinite(lastSeconds) ? total - lastSeconds * 1e6 : 0;
  let at = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (at < skipUs) return;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    all += us;
    const where = frame.url
      ? `${frame.url.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}`
      : "";
    const fn = `${frame.functionName || "(anonymous)"} ${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byArea.set(area(frame.url), (byArea.get(area(frame.url)) ?? 0) + us);
  });
  return [
    `${path}: ${(all / 1e6).toFixed(1)} s sampled`,
    "self time by area:",
    ...top(byArea, all, count),
    "self time by function:",
    ...top(byFunction, all, count),
  ].join("\n");
}

const [path, count, last] = process.argv.slice(2);
if (!path) {
  console.error("usage: node bench/profile-summary.ts <file.cpuprofile> [top] [lastSeconds]");
  process.exitCode = 2;
} else console.log(summarise(path, Number(count ?? 25), Number(last ?? Number.NaN)));
