/**
 * `npm run bench:scale`: the cost of scale (issue 14). Long, never in CI.
 *
 * 1. Publish and lease cost against the number of stored events: one store grown through the
 *    SQLite engine API to each step (0, 1M, 10M, 100M, … up to `--events`); at each step the
 *    router (the real CLI, fsync always) is started on it, its ready time taken, then router
 *    CPU per SDK-batched publish and per delivery of a subscription that starts at the end.
 *    Target: flat within ±10% of the empty store.
 * 2. Fan-out: router CPU per delivery with 100 subscriptions on one topic against one
 *    (the same number of deliveries). Target: ≤ 1.2×.
 * 3. RSS of the router on the biggest store with 1,000 subscriptions after a quiet dedupe
 *    window (the topic's window shortened to `--dedupe-window-ms`), and the memory a full
 *    5-minute window at 100k events/s takes (the router's dedupe index, in its own process).
 *
 * Prints a table and writes `bench/results/scale-<timestamp>.json`.
 *
 *   npm run bench:scale -- [--events 100000000] [--measure 100000] [--dedupe-window-ms 10000]
 *                          [--subscriptions 1000] [--data-root DIR] [--out DIR]
 *                          [--parts steps,rss,fanout,dedupe] [--fanout-runs 3]
 *                          [--fanout-subscriptions 1,100] [--profile]
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { SwitchyardClient } from "../../src/client/index.ts";
import { type RouterProcess, startRouterProcess } from "../../test/support/router-process.ts";
import { benchArgs, invalidOption } from "../args.ts";
import { windowed } from "../load.ts";
import { machineInfo } from "../machine.ts";
import { cloudEventData, EVENT_SOURCE, EVENT_TYPE } from "../payload.ts";
import { median } from "../stats.ts";
import { type Cost, leaseCost, publishCost, rssMiB } from "./measure.ts";
import { preloadStore } from "./preload.ts";

type Sdk = typeof import("../../src/client/index.ts");

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST_CLIENT = join(HERE, "../../dist/client/index.js");
const TOPIC = "scale";
const READY_TIMEOUT_MS = 30 * 60_000;
const FANOUT_DELIVERIES = 100_000;
/** Publish and lease measurements per step; the step's figure is their median. */
const STEP_RUNS = 3;

/** The run with the median CPU figure (its rate and starvation beside it). */
function medianCost(costs: readonly Cost[]): Cost {
  const sorted = [...costs].sort((a, b) => a.cpuUs - b.cpuUs);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error("no measurement");
  return middle;
}
const values = benchArgs("bench/scale/main.ts", {
  events: { type: "string", default: "100000000" },
  measure: { type: "string", default: "100000" },
  "dedupe-window-ms": { type: "string", default: "10000" },
  subscriptions: { type: "string", default: "1000" },
  "data-root": { type: "string", default: tmpdir() },
  out: { type: "string", default: join(HERE, "../results") },
  // The RSS part needs the steps (it runs on the last step's router); fan-out and the dedupe
  // window are independent of both.
  parts: { type: "string", default: "steps,rss,fanout,dedupe" },
  "fanout-runs": { type: "string", default: "3" },
  /** The subscription counts fan-out alternates between (e.g. `100` alone, to profile it). */
  "fanout-subscriptions": { type: "string", default: "1,100" },
  profile: { type: "boolean", default: false },
});
const positive = (name: string, value: string | undefined, min = 1): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    invalidOption("bench/scale/main.ts", `--${name} must be an integer ≥ ${min}`);
  return n;
};
const CAP = positive("events", values.events, 0);
const MEASURE = positive("measure", values.measure, 1_000);
const WINDOW_MS = positive("dedupe-window-ms", values["dedupe-window-ms"], 1);
const SUBSCRIPTIONS = positive("subscriptions", values.subscriptions);
const FANOUT_RUNS = positive("fanout-runs", values["fanout-runs"]);
const FANOUT_CONFIGS = values["fanout-subscriptions"].split(",").map((count) => {
  const n = positive("fanout-subscriptions", count);
  if (FANOUT_DELIVERIES % n !== 0)
    invalidOption("bench/scale/main.ts", `--fanout-subscriptions: ${n} does not divide 100,000`);
  return n;
});
const PART_NAMES = ["steps", "rss", "fanout", "dedupe"] as const;
type Part = (typeof PART_NAMES)[number];
const PARTS = new Set(values.parts.split(",").map((part) => part.trim()));
for (const part of PARTS)
  if (!PART_NAMES.includes(part as Part))
    invalidOption("bench/scale/main.ts", `--parts takes ${PART_NAMES.join(", ")}, not ${part}`);
if (PARTS.has("rss") && !PARTS.has("steps"))
  invalidOption(
    "bench/scale/main.ts",
    "--parts rss needs steps (it runs on the last step's router)",
  );
const runs = (part: Part): boolean => PARTS.has(part);
/** `--profile`: every router writes a CPU profile here (read it with bench/profile-summary.ts). */
const PROFILE_DIR = values.profile ? join(values.out, "profiles") : undefined;

const log = (message: string): void =>
  void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** 0, 1M, 10M, 100M, … while ≤ the cap, and the cap itself. */
function steps(cap: number): number[] {
  const out = [0];
  for (let n = 1_000_000; n <= cap; n *= 10) out.push(n);
  if (!out.includes(cap)) out.push(cap);
  return out;
}

async function loadSdk(): Promise<Sdk> {
  if (!existsSync(DIST_CLIENT)) throw new Error(`${DIST_CLIENT} is missing: run npm run build`);
  return (await import(pathToFileURL(DIST_CLIENT).href)) as Sdk;
}

interface Step {
  readonly stored: number;
  readonly readySeconds: number;
  readonly publish: Cost;
  readonly lease: Cost;
  readonly rssMiB: number;
  /** Bytes of the data directory's files when the router started. */
  readonly storeMiB: number;
}

function dirMiB(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const stat = statSync(join(dir, name));
    if (stat.isFile()) bytes += stat.size;
  }
  return bytes / 2 ** 20;
}

async function startRouter(
  dataDir: string,
  nodeArgs: readonly string[] = PROFILE_DIR === undefined
    ? []
    : ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR],
): Promise<{ router: RouterProcess; seconds: number }> {
  const started = performance.now();
  const router = await startRouterProcess({
    dataDir,
    fsync: "always",
    readyTimeoutMs: READY_TIMEOUT_MS,
    nodeArgs,
  });
  return { router, seconds: (performance.now() - started) / 1000 };
}

async function measureStep(
  sdk: Sdk,
  dataDir: string,
  stored: number,
  index: number,
): Promise<{ step: Step; router: RouterProcess; client: SwitchyardClient }> {
  const storeMiB = dirMiB(dataDir);
  const { router, seconds } = await startRouter(dataDir);
  log(`  ${stored.toLocaleString("en-US")} stored: ready in ${seconds.toFixed(2)} s`);
  const client = sdk.createClient({ url: router.url, source: EVENT_SOURCE });
  const pid = router.pid ?? 0;
  const subscription = `lease-${index}`;
  // Starts at the end of the log: it leases only what this step publishes.
  await client.admin.subscriptions.put(subscription, {
    topic: TOPIC,
    start: "latest",
    maxInFlight: 10_000,
  });
  const warmup = Math.round(MEASURE / 5);
  const publishes: Cost[] = [];
  const leases: Cost[] = [];
  for (let run = 0; run < STEP_RUNS; run++) {
    const first = run === 0 ? warmup : 0;
    publishes.push(await publishCost(client, pid, TOPIC, MEASURE, first));
    leases.push(await leaseCost(client, pid, [subscription], first + MEASURE, 1_000));
  }
  const publish = medianCost(publishes);
  const lease = medianCost(leases);
  const step = { stored, readySeconds: seconds, publish, lease, rssMiB: rssMiB(pid), storeMiB };
  log(
    `  publish ${publish.cpuUs.toFixed(1)} µs/event (${Math.round(publish.perSecond)}/s), lease ${lease.cpuUs.toFixed(1)} µs/delivery (${Math.round(lease.perSecond)}/s), RSS ${step.rssMiB.toFixed(0)} MiB`,
  );
  return { step, router, client };
}

async function scaleSteps(sdk: Sdk, dataDir: string) {
  const out: Step[] = [];
  let stored = 0;
  const preloads: { to: number; seconds: number }[] = [];
  let last: { router: RouterProcess; client: SwitchyardClient } | undefined;
  for (const [index, target] of steps(CAP).entries()) {
    await last?.client.close({ timeoutMs: 5_000 });
    await last?.router.stop(60_000);
    if (target > stored) {
      const started = performance.now();
      log(`preloading to ${target.toLocaleString("en-US")} through the engine`);
      await preloadStore(dataDir, { name: TOPIC, dedupeWindowMs: WINDOW_MS }, stored, target, (n) =>
        log(`  ${n.toLocaleString("en-US")} stored`),
      );
      preloads.push({ to: target, seconds: (performance.now() - started) / 1000 });
      stored = target;
      // Let the preload's dedupe window expire first: otherwise the router rebuilds it at start
      // and prunes it during the measurement, and both would be charged to the store's size.
      await new Promise((done) => setTimeout(done, WINDOW_MS + 1_000));
    } else if (index === 0) {
      await preloadStore(dataDir, { name: TOPIC, dedupeWindowMs: WINDOW_MS }, 0, 0, () => {});
    }
    const measured = await measureStep(sdk, dataDir, stored, index);
    out.push(measured.step);
    // What the step published stays in the store: count it towards the next step.
    stored += STEP_RUNS * MEASURE + Math.round(MEASURE / 5);
    last = measured;
  }
  return { steps: out, preloads, last };
}

/** RSS of the router on the big store with `SUBSCRIPTIONS` subscriptions, after a quiet window. */
async function quietRss(client: SwitchyardClient, router: RouterProcess) {
  const pid = router.pid ?? 0;
  const started = performance.now();
  for (let i = 0; i < SUBSCRIPTIONS; i++)
    await client.admin.subscriptions.put(`idle-${i}`, { topic: TOPIC, start: "earliest" });
  const createSeconds = (performance.now() - started) / 1000;
  const busy = rssMiB(pid);
  const quietMs = WINDOW_MS + 5_000;
  log(`  ${SUBSCRIPTIONS} subscriptions in ${createSeconds.toFixed(1)} s; quiet for ${quietMs} ms`);
  await new Promise((done) => setTimeout(done, quietMs));
  const quiet = rssMiB(pid);
  // And once more from a cold start on the same store and subscriptions.
  await client.close({ timeoutMs: 5_000 });
  await router.stop(60_000);
  // Ready time on the big store with nothing left in the dedupe window to rebuild (the steps'
  // ready times include rebuilding the window the preload just filled).
  const restartStarted = performance.now();
  await router.start();
  const quietRestartSeconds = (performance.now() - restartStarted) / 1000;
  const restartedPid = router.pid ?? 0;
  await new Promise((done) => setTimeout(done, quietMs));
  const restarted = rssMiB(restartedPid);
  await router.stop(60_000);
  return {
    subscriptions: SUBSCRIPTIONS,
    createSeconds,
    busyMiB: busy,
    quietMiB: quiet,
    quietAfterRestartMiB: restarted,
    quietRestartSeconds,
    quietMs,
  };
}

/** Router CPU per delivery: 100 subscriptions of one topic against one (same deliveries). */
async function fanout(sdk: Sdk, dataRoot: string) {
  const dataDir = await mkdtemp(join(dataRoot, "switchyard-scale-fanout-"));
  const { router } = await startRouter(dataDir);
  const client = sdk.createClient({
    url: router.url,
    source: EVENT_SOURCE,
    batch: { maxEvents: 1_000, maxBytes: 4 * 1024 * 1024, lingerMs: 2 },
  });
  const pid = router.pid ?? 0;
  const result: Record<string, number[]> = Object.fromEntries(FANOUT_CONFIGS.map((n) => [n, []]));
  try {
    for (let run = 0; run < FANOUT_RUNS; run++)
      for (const subs of FANOUT_CONFIGS) {
        const topic = `fan-${subs}-${run}`;
        const perSubscription = FANOUT_DELIVERIES / subs;
        await client.admin.topics.put(topic, {});
        const names = Array.from({ length: subs }, (_, i) => `${topic}-s${i}`);
        for (const name of names)
          await client.admin.subscriptions.put(name, {
            topic,
            start: "earliest",
            maxInFlight: 10_000,
          });
        const events = Array.from({ length: perSubscription }, (_, seq) => ({
          type: EVENT_TYPE,
          data: cloudEventData({ seq }),
        }));
        const batches = Math.ceil(events.length / 1_000);
        await windowed(batches, 4, 120_000, (b) =>
          client.publish(topic, events.slice(b * 1_000, (b + 1) * 1_000)).then(() => {}),
        );
        const cost = await leaseCost(client, pid, names, perSubscription, subs === 1 ? 1_000 : 50);
        result[subs]?.push(cost.cpuUs);
        log(`  ${subs} subscription(s), run ${run + 1}: ${cost.cpuUs.toFixed(1)} µs/delivery`);
      }
  } finally {
    await client.close({ timeoutMs: 5_000 });
    await router.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const one = median(result["1"] ?? [Number.NaN]);
  const hundred = median(result["100"] ?? [Number.NaN]);
  return {
    deliveries: FANOUT_DELIVERIES,
    runs: result,
    oneUs: one,
    hundredUs: hundred,
    ratio: hundred / one,
  };
}

/** The dedupe index a full 5-minute window at 100k events/s holds, in its own process. */
async function dedupeWindow() {
  const ids = 300 * 100_000;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(HERE, "dedupe-rss.ts"), "--ids", String(ids), "--rate", "100000"],
    { timeout: 600_000 },
  );
  return JSON.parse(stdout) as Record<string, number>;
}

async function main(): Promise<void> {
  const sdk = await loadSdk();
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const dataDir = await mkdtemp(join(resolve(values["data-root"]), "switchyard-scale-"));
  try {
    const measured = await measureParts(sdk, dataDir);
    const report = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      settings: {
        events: CAP,
        measure: MEASURE,
        dedupeWindowMs: WINDOW_MS,
        fsync: "always",
        engine: "sqlite",
        parts: [...PARTS],
      },
      ...measured,
    };
    console.log(formatScale(report));
    mkdirSync(values.out, { recursive: true });
    const path = join(values.out, `scale-${startedAt.replaceAll(":", "-")}.json`);
    writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nresults: ${path}`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The parts `--parts` asks for, in order. */
async function measureParts(sdk: Sdk, dataDir: string) {
  let grown: Awaited<ReturnType<typeof scaleSteps>> | undefined;
  let rss: Awaited<ReturnType<typeof quietRss>> | undefined;
  if (runs("steps")) {
    log(
      `steps: ${steps(CAP)
        .map((n) => n.toLocaleString("en-US"))
        .join(", ")}`,
    );
    grown = await scaleSteps(sdk, dataDir);
    if (grown.last === undefined) throw new Error("no step ran");
    if (runs("rss")) {
      log(`RSS with ${SUBSCRIPTIONS} subscriptions on the biggest store`);
      rss = await quietRss(grown.last.client, grown.last.router);
    } else {
      await grown.last.client.close({ timeoutMs: 5_000 });
      await grown.last.router.stop(60_000);
    }
  }
  let fan: Awaited<ReturnType<typeof fanout>> | undefined;
  if (runs("fanout")) {
    log(`fan-out: ${FANOUT_CONFIGS.join(" against ")} subscriptions`);
    fan = await fanout(sdk, resolve(values["data-root"]));
  }
  let dedupe: Record<string, number> | undefined;
  if (runs("dedupe")) {
    log("dedupe window: 5 minutes at 100k events/s");
    dedupe = await dedupeWindow();
  }
  return {
    steps: grown?.steps ?? [],
    preloads: grown?.preloads ?? [],
    ...(rss === undefined ? {} : { rss }),
    ...(fan === undefined ? {} : { fanout: fan }),
    ...(dedupe === undefined ? {} : { dedupe }),
  };
}

function formatRss(rss: Awaited<ReturnType<typeof quietRss>>): string {
  return `RSS on the biggest store with ${rss.subscriptions} subscriptions (start earliest, no consumers): ${rss.busyMiB.toFixed(0)} MiB just created (${rss.createSeconds.toFixed(1)} s for the PUTs), ${rss.quietMiB.toFixed(0)} MiB after a quiet ${rss.quietMs} ms (dedupe window ${WINDOW_MS} ms), ${rss.quietAfterRestartMiB.toFixed(0)} MiB ${rss.quietMs} ms after a restart, which was ready in ${rss.quietRestartSeconds.toFixed(2)} s (nothing left in the dedupe window to rebuild)`;
}

function formatFanout(fan: Awaited<ReturnType<typeof fanout>>): string {
  const runs = Object.entries(fan.runs)
    .map(([subs, us]) => `${subs}: ${us.map((u) => u.toFixed(1)).join(" / ")}`)
    .join("; ");
  return `fan-out, router CPU per delivery (${fan.deliveries.toLocaleString("en-US")} deliveries, median of ${FANOUT_RUNS}): 1 subscription ${fan.oneUs.toFixed(1)} µs, 100 subscriptions ${fan.hundredUs.toFixed(1)} µs = ${fan.ratio.toFixed(2)}× (target ≤ 1.2×; runs ${runs})`;
}

function formatDedupe(dedupe: Record<string, number>): string {
  return `dedupe window, 5 min at 100k events/s (${dedupe.ids?.toLocaleString("en-US")} ids, kept ${dedupe.kept?.toLocaleString("en-US")}: the cap): +${((dedupe.rssAfterMiB ?? 0) - (dedupe.rssBeforeMiB ?? 0)).toFixed(0)} MiB RSS, ${dedupe.bytesPerId?.toFixed(0)} bytes per id (DedupeIndex alone, own process)`;
}

function formatScale(report: {
  machine: ReturnType<typeof machineInfo>;
  steps: readonly Step[];
  preloads: readonly { to: number; seconds: number }[];
  rss?: Awaited<ReturnType<typeof quietRss>>;
  fanout?: Awaited<ReturnType<typeof fanout>>;
  dedupe?: Record<string, number>;
}): string {
  const m = report.machine;
  const base = report.steps[0];
  const pct = (v: number, ref: number | undefined) =>
    ref === undefined ? "" : ` (${v >= ref ? "+" : ""}${(((v - ref) / ref) * 100).toFixed(0)}%)`;
  const lines = [
    `machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}, commit ${m.commit}, load average ${m.loadAverage}`,
  ];
  if (report.steps.length > 0)
    lines.push(
      `router: SQLite, fsync always; cost figures are router CPU (median of ${STEP_RUNS} runs per step, each ${MEASURE.toLocaleString("en-US")} events; the first after a ${(MEASURE / 5).toLocaleString("en-US")}-event warm-up)`,
      "",
      "| stored events | ready after restart | publish µs/event (vs 0) | lease µs/delivery (vs 0) | publish/s | deliveries/s | router starved % (pub/lease) | RSS MiB | store MiB |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...report.steps.map(
        (s) =>
          `| ${s.stored.toLocaleString("en-US")} | ${s.readySeconds.toFixed(2)} s | ${s.publish.cpuUs.toFixed(1)}${pct(s.publish.cpuUs, base?.publish.cpuUs)} | ${s.lease.cpuUs.toFixed(1)}${pct(s.lease.cpuUs, base?.lease.cpuUs)} | ${Math.round(s.publish.perSecond).toLocaleString("en-US")} | ${Math.round(s.lease.perSecond).toLocaleString("en-US")} | ${s.publish.starvedPercent.toFixed(0)} / ${s.lease.starvedPercent.toFixed(0)} | ${s.rssMiB.toFixed(0)} | ${s.storeMiB.toFixed(0)} |`,
      ),
      "",
      `preload through the engine: ${report.preloads.map((p) => `to ${p.to.toLocaleString("en-US")} in ${p.seconds.toFixed(0)} s`).join(", ")}`,
    );
  if (report.fanout !== undefined) lines.push(formatFanout(report.fanout));
  if (report.rss !== undefined) lines.push(formatRss(report.rss));
  if (report.dedupe !== undefined) lines.push(formatDedupe(report.dedupe));
  return lines.join("\n");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
