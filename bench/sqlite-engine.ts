/**
 * Engine-level benchmark of the embedded SQLite engine (no HTTP): append throughput of
 * 1,000-event batches of 256-byte events (fsync always and interval), 64 concurrent
 * single-event appenders (group commit), lease+ack drain, and append cost with millions of
 * events already stored. Median of 3 runs unless `--runs N`.
 *
 *   node bench/sqlite-engine.ts [--runs 3] [--preload 3000000] [--window 300000]
 *                               [--only batch,concurrent,drain,flat]
 * `--window` is the topic's dedupe window in ms (0: no dedupe).
 */
import "../test/support/ts-resolve.ts";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Engine, NewEvent } from "../src/engine/engine.ts";

const { openSqliteEngine } = await import("../src/engine/sqlite/index.ts");

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    preload: { type: "string", default: "3000000" },
    only: { type: "string", default: "batch,concurrent,drain,flat" },
    window: { type: "string", default: "300000" },
  },
});
const RUNS = Number(args.runs);
const ONLY = new Set(String(args.only).split(","));

function event(): NewEvent {
  const id = randomUUID();
  const envelope = {
    specversion: "1.0",
    id,
    source: "/bench",
    type: "bench.event",
    time: new Date().toISOString(),
  };
  const pad = 256 - JSON.stringify({ ...envelope, data: { pad: "" } }).length;
  const body = JSON.stringify({ ...envelope, data: { pad: "x".repeat(Math.max(0, pad)) } });
  return { id, source: "/bench", key: null, body };
}

const batchOf = (n: number): NewEvent[] => Array.from({ length: n }, event);
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function withEngine<T>(
  fsync: "always" | "interval",
  run: (e: Engine) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "sy-bench-"));
  const engine = await openSqliteEngine({ dir, fsync, retentionIntervalMs: 0 });
  try {
    await engine.log.putTopic({
      name: "bench",
      retention: {},
      dedupeWindowMs: Number(args.window),
      maxEventBytes: 1_048_576,
    });
    return await run(engine);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Measured {
  /** Events (or deliveries) per second, wall clock. */
  readonly rate: number;
  /** CPU time this process spent per event (user + system), in µs. */
  readonly cpuUs: number;
}

/** Times `work` (which handles `count` events) by the wall clock and by this process's CPU. */
async function measure(count: number, work: () => Promise<unknown>): Promise<Measured> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { rate: count / seconds, cpuUs: (used.user + used.system) / count };
}

/** Appends `total` events in 1,000-event batches, `inFlight` batches at a time. */
function batched(engine: Engine, total: number, inFlight: number): Promise<Measured> {
  const batches = Array.from({ length: total / 1000 }, () => batchOf(1000));
  let next = 0;
  return measure(total, () =>
    Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < batches.length) await engine.log.append("bench", batches[next++] ?? []);
      }),
    ),
  );
}

function writerStats(engine: Engine): { commits: number; jobs: number } {
  return (engine as unknown as { writerStats(): { commits: number; jobs: number } }).writerStats();
}

/** `callers` concurrent single-event appenders for `ms`; also reports events per commit. */
async function concurrent(engine: Engine, callers: number, ms: number): Promise<Measured> {
  const before = writerStats(engine);
  const events = Array.from({ length: 400_000 }, event);
  const until = performance.now() + ms;
  let count = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < until)
        await engine.log.append("bench", [events[count++ % events.length] ?? event()]);
    }),
  );
  const used = process.cpuUsage(cpu);
  const after = writerStats(engine);
  perCommit.push((after.jobs - before.jobs) / (after.commits - before.commits));
  return {
    rate: count / ((performance.now() - started) / 1000),
    cpuUs: (used.user + used.system) / count,
  };
}
const perCommit: number[] = [];

/** Leases 500 at a time and acks them, over a stored backlog of `total`. */
async function drain(engine: Engine, total: number): Promise<Measured> {
  for (let i = 0; i < total; i += 10_000) await engine.log.append("bench", batchOf(10_000));
  await engine.log.putTopic({
    name: "bench.dlq",
    retention: {},
    dedupeWindowMs: 0,
    maxEventBytes: 1_048_576,
  });
  await engine.cursors.putSubscription({
    name: "drain",
    topic: "bench",
    filter: null,
    start: "earliest",
    ackTimeoutMs: 30_000,
    maxAttempts: 10,
    backoff: { initialMs: 1000, maxMs: 60_000, multiplier: 2 },
    deadLetterTopic: "bench.dlq",
    ordering: "none",
    maxInFlight: 1000,
    push: null,
  });
  return measure(total, async () => {
    for (let done = 0; done < total; ) {
      const deliveries = await engine.cursors.lease("drain", { max: 500, waitMs: 0 });
      await engine.cursors.ack(
        "drain",
        deliveries.map((d) => d.ackId),
      );
      done += deliveries.length;
    }
  });
}

async function repeat(label: string, run: () => Promise<Measured>): Promise<void> {
  const runs: Measured[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run());
  const rate = Math.round(median(runs.map((r) => r.rate)))
    .toLocaleString("en")
    .padStart(10);
  const cpu = median(runs.map((r) => r.cpuUs))
    .toFixed(2)
    .padStart(6);
  console.log(
    `${label.padEnd(66)} ${rate}  cpu ${cpu} µs/event   runs: ${runs.map((r) => Math.round(r.rate)).join(", ")}`,
  );
}

if (ONLY.has("batch"))
  for (const fsync of ["always", "interval"] as const)
    for (const inFlight of [1, 4])
      await repeat(`append 1000-event batches, fsync ${fsync}, ${inFlight} in flight (ev/s)`, () =>
        withEngine(fsync, (e) => batched(e, 200_000, inFlight)),
      );

if (ONLY.has("concurrent"))
  for (const fsync of ["always", "interval"] as const)
    for (const callers of [1, 64]) {
      perCommit.length = 0;
      await repeat(`${callers} concurrent single-event appenders, fsync ${fsync} (ev/s)`, () =>
        withEngine(fsync, (e) => concurrent(e, callers, 3_000)),
      );
      console.log(`${"".padEnd(4)}events per commit (median): ${median(perCommit).toFixed(1)}`);
    }

if (ONLY.has("drain"))
  for (const fsync of ["always", "interval"] as const)
    await repeat(`lease 500 + ack, backlog of 200k, fsync ${fsync} (deliveries/s)`, () =>
      withEngine(fsync, (e) => drain(e, 200_000)),
    );

if (ONLY.has("flat")) {
  // One store grown to --preload events; batch throughput measured at each third.
  const preload = Number(args.preload);
  await withEngine("always", async (e) => {
    await batched(e, 50_000, 1); // warm-up: the JIT, not the store, would slow the first step
    let stored = 50_000;
    for (const target of [0, preload / 3, (2 * preload) / 3, preload]) {
      for (; stored < target; stored += 10_000) await e.log.append("bench", batchOf(10_000));
      const label = `append 1000-event batches, ${Math.round(target).toLocaleString("en")} stored (ev/s)`;
      await repeat(label, () => batched(e, 50_000, 1));
      stored += 50_000 * RUNS;
    }
  });
}
