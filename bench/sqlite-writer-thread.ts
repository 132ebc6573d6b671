/**
 * Does moving the SQLite writer to a worker thread pay for itself on this machine?
 *
 * The same engine (`openSqliteEngine`) runs either on the main thread, or on a worker thread
 * that the main thread talks to with postMessage. The main thread does what the server and
 * broker do per request: JSON.parse a 1,000-event CloudEvents batch (256-byte events),
 * validate each event (core/event.ts) and serialise it once, append, and build the response
 * body; `--producers` batches are in flight at a time.
 * Reported per mode: events/s, how busy the main thread's event loop was (what is left for
 * HTTP), and the p99 delay of a 1 ms timer on the main thread (how long the event loop is
 * blocked at a time, which is what other requests feel). Median of RUNS runs.
 *
 *   node bench/sqlite-writer-thread.ts [--runs 3] [--batches 300] [--producers 4] [--fsync always]
 */
import "../test/support/ts-resolve.ts";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { Appended, Engine, NewEvent } from "../src/engine/engine.ts";

const { openSqliteEngine } = await import("../src/engine/sqlite/index.ts");
const { cloudEventErrors } = await import("../src/core/event.ts");

type Fsync = "always" | "interval";
interface AppendRequest {
  readonly id: number;
  readonly events: readonly NewEvent[];
}

async function openEngine(dir: string, fsync: Fsync): Promise<Engine> {
  const engine = await openSqliteEngine({ dir, fsync, retentionIntervalMs: 0 });
  await engine.log.putTopic({
    name: "bench",
    retention: {},
    dedupeWindowMs: 300_000,
    maxEventBytes: 1_048_576,
  });
  return engine;
}

if (!isMainThread) {
  // The writer thread: owns the engine, answers append requests.
  const { dir, fsync } = workerData as { dir: string; fsync: Fsync };
  const engine = await openEngine(dir, fsync);
  parentPort?.on("message", (message: AppendRequest | "close") => {
    if (message === "close") {
      void engine.close().then(() => parentPort?.close());
      return;
    }
    void engine.log.append("bench", message.events).then((results) => {
      parentPort?.postMessage({ id: message.id, results });
    });
  });
  parentPort?.postMessage("ready");
} else {
  await main();
}

type Append = (events: readonly NewEvent[]) => Promise<readonly Appended[]>;

function requestBody(): string {
  return JSON.stringify(
    Array.from({ length: 1000 }, () => ({
      specversion: "1.0",
      id: randomUUID(),
      source: "/bench",
      type: "bench.event",
      time: new Date().toISOString(),
      data: { pad: "x".repeat(118) },
    })),
  );
}

/** What the server and broker do to a batch request before the engine sees it. */
function prepare(body: string): NewEvent[] {
  const parsed = JSON.parse(body) as { id: string; source: string }[];
  return parsed.map((event, i) => {
    if (cloudEventErrors(event, `/${i}`).length > 0) throw new Error("invalid event");
    return { id: event.id, source: event.source, key: null, body: JSON.stringify(event) };
  });
}

/** ... and to the engine's answer: the 201 body. */
function respond(events: readonly NewEvent[], results: readonly Appended[]): string {
  return JSON.stringify({
    events: results.map((r, i) => ({ id: events[i]?.id, ...r })),
  });
}

async function drive(append: Append, bodies: readonly string[], producers: number) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < bodies.length) {
        const events = prepare(bodies[next++] ?? "[]");
        respond(events, await append(events));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  return {
    perSecond: (bodies.length * 1000) / seconds,
    p99DelayMs: delay.percentile(99) / 1e6,
    mainBusy: performance.eventLoopUtilization(elu).utilization,
  };
}

async function onMainThread(fsync: Fsync, bodies: readonly string[], producers: number) {
  const dir = mkdtempSync(join(tmpdir(), "sy-wt-"));
  const engine = await openEngine(dir, fsync);
  try {
    return await drive((events) => engine.log.append("bench", events), bodies, producers);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function onWorker(fsync: Fsync, bodies: readonly string[], producers: number) {
  const dir = mkdtempSync(join(tmpdir(), "sy-wt-"));
  const worker = new Worker(new URL(import.meta.url), { workerData: { dir, fsync } });
  const waiting = new Map<number, (results: readonly Appended[]) => void>();
  await new Promise<void>((resolve) => {
    worker.on("message", (message: "ready" | { id: number; results: readonly Appended[] }) => {
      if (message === "ready") resolve();
      else {
        waiting.get(message.id)?.(message.results);
        waiting.delete(message.id);
      }
    });
  });
  let ids = 0;
  const append: Append = (events) =>
    new Promise((resolve) => {
      const id = ++ids;
      waiting.set(id, resolve);
      worker.postMessage({ id, events } satisfies AppendRequest);
    });
  try {
    return await drive(append, bodies, producers);
  } finally {
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.postMessage("close");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "3" },
      batches: { type: "string", default: "300" },
      producers: { type: "string", default: "4" },
      fsync: { type: "string", default: "always" },
    },
  });
  const runs = Number(values.runs);
  const producers = Number(values.producers);
  const fsync = values.fsync === "interval" ? "interval" : "always";
  const bodies = Array.from({ length: Number(values.batches) }, requestBody);
  console.log(
    `${bodies.length} batches of 1,000 x 256-byte events, ${producers} in flight, fsync ${fsync}, median of ${runs}`,
  );
  for (const [mode, run] of [
    ["main thread", onMainThread],
    ["worker thread", onWorker],
  ] as const) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await run(fsync, bodies, producers));
    const rate = median(results.map((r) => r.perSecond));
    const p99 = median(results.map((r) => r.p99DelayMs));
    const busy = median(results.map((r) => r.mainBusy));
    console.log(
      `${mode.padEnd(14)} ${Math.round(rate).toLocaleString("en").padStart(9)} events/s   main thread busy ${(busy * 100).toFixed(0)}%   event-loop delay p99 ${p99.toFixed(1)} ms   runs: ${results.map((r) => Math.round(r.perSecond)).join(", ")}`,
    );
  }
}
