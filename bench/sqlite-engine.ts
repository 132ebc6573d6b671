/**
 * Engine-level benchmark of the embedded SQLite engine (no HTTP): append throughput of
 * 1,000-event batches of 256-byte events (fsync always and interval), 64 concurrent
 * single-event appenders (group commit), lease+ack drain, and append cost with millions of
 * events already stored. Median of 3 runs unless `--runs N`.
 *
 *   node bench/sqlite-engine.ts [--runs 3] [--preload 3000000] [--only batch,concurrent,drain,flat]
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
      dedupeWindowMs: 300_000,
      maxEventBytes: 1_048_576,
    });
    return await run(engine);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Events/s appending `total` events in 1,000-event batches, `inFlight` batches at a time. */
async function batched(engine: Engine, total: number, inFlight: number): Promise<number> {
  const batches = Array.from({ length: total / 1000 }, () => batchOf(1000));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < batches.length) await engine.log.append("bench", batches[next++] ?? []);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

function writerStats(engine: Engine): { commits: number; jobs: number } {
  return (engine as unknown as { writerStats(): { commits: number; jobs: number } }).writerStats();
}

/** Events/s and events per commit with `callers` concurrent single-event appenders for `ms`. */
async function concurrent(engine: Engine, callers: number, ms: number) {
  const before = writerStats(engine);
  const until = performance.now() + ms;
  let count = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < until) {
        await engine.log.append("bench", [event()]);
        count++;
      }
    }),
  );
  const after = writerStats(engine);
  const perSecond = count / ((performance.now() - started) / 1000);
  return { perSecond, perCommit: (after.jobs - before.jobs) / (after.commits - before.commits) };
}

/** Deliveries/s: lease 500 at a time and ack them, over a stored backlog of `total`. */
async function drain(engine: Engine, total: number): Promise<number> {
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
  const started = performance.now();
  let done = 0;
  while (done < total) {
    const deliveries = await engine.cursors.lease("drain", { max: 500, waitMs: 0 });
    await engine.cursors.ack(
      "drain",
      deliveries.map((d) => d.ackId),
    );
    done += deliveries.length;
  }
  return total / ((performance.now() - started) / 1000);
}

async function repeat(label: string, run: () => Promise<number>): Promise<void> {
  const values: number[] = [];
  for (let i = 0; i < RUNS; i++) values.push(await run());
  console.log(
    `${label.padEnd(58)} ${Math.round(median(values)).toLocaleString("en").padStart(10)}   runs: ${values.map((v) => Math.round(v)).join(", ")}`,
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
      const perCommit: number[] = [];
      await repeat(`${callers} concurrent single-event appenders, fsync ${fsync} (ev/s)`, () =>
        withEngine(fsync, async (e) => {
          const r = await concurrent(e, callers, 3_000);
          perCommit.push(r.perCommit);
          return r.perSecond;
        }),
      );
      console.log(`${"".padEnd(4)}events per commit (median): ${median(perCommit).toFixed(1)}`);
    }

if (ONLY.has("drain"))
  await repeat("lease 500 + ack, backlog of 200k, fsync always (deliveries/s)", () =>
    withEngine("always", (e) => drain(e, 200_000)),
  );

if (ONLY.has("flat")) {
  // One store grown to --preload events; batch throughput measured at each quarter.
  const preload = Number(args.preload);
  await withEngine("always", async (e) => {
    let stored = 0;
    for (const target of [0, preload / 3, (2 * preload) / 3, preload]) {
      for (; stored < target; stored += 10_000) await e.log.append("bench", batchOf(10_000));
      const rates: number[] = [];
      for (let i = 0; i < RUNS; i++) rates.push(await batched(e, 50_000, 1));
      stored += 50_000 * RUNS;
      const label = `append 1000-event batches, ${Math.round(target).toLocaleString("en")} stored (ev/s)`;
      console.log(
        `${label.padEnd(58)} ${Math.round(median(rates)).toLocaleString("en").padStart(10)}   runs: ${rates.map(Math.round).join(", ")}`,
      );
    }
  });
}
