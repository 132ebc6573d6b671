/**
 * `aggregate.handle()` latency on a long stream, with and without snapshots: one router over
 * HTTP, one subject preloaded with `--events` events per mode, then `--handles` commands
 * handled one after another, `--runs` times. Without snapshots every handle folds the whole
 * stream (pages of 1,000); with them (a SQLite file, or PostgreSQL with `--pg URL`, saved
 * every `--every` versions) it reads the snapshot and the few events after it. One handle
 * per mode runs untimed first, so the snapshot exists before timing starts. Prints a table
 * and a JSON line: per mode, the median of the runs' median latencies, and each run's.
 * Run: npm run bench:aggregate -- [--events 10000] [--handles 20] [--runs 5] [--every 100]
 *        [--nats URL] [--pg postgres://postgres@127.0.0.1:5432/db]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  createClient,
  pgSnapshotStore,
  type SnapshotStore,
  type StoredEvent,
  sqliteSnapshotStore,
} from "../dist/client/index.js";
import { startRouter } from "../dist/index.js";
import { benchArgs } from "./args.ts";

const values = benchArgs("bench/aggregate.ts", {
  events: { type: "string", default: "10000" },
  handles: { type: "string", default: "20" },
  runs: { type: "string", default: "5" },
  every: { type: "string", default: "100" },
  // A running nats-server with JetStream: the router then uses the NATS engine.
  nats: { type: "string", default: "" },
  // A PostgreSQL database for a third mode, snapshots in pgSnapshotStore.
  pg: { type: "string", default: "" },
});
const EVENTS = Number(values.events);
const HANDLES = Number(values.handles);
const RUNS = Number(values.runs);
const EVERY = Number(values.every);
const PRELOAD_BATCH = 1_000;

interface Counter {
  readonly total: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const dataDir = mkdtempSync(join(tmpdir(), "sy-agg-bench-"));
const nats =
  values.nats === ""
    ? {}
    : {
        engine: "nats" as const,
        nats: { url: values.nats, prefix: `AGB${process.pid}` },
        secretKeys: `k1:${randomBytes(32).toString("base64")}`,
      };
const router = await startRouter({ port: 0, logLevel: "silent", dataDir, ...nats });
const client = createClient({ url: router.url });
const snapshotsDb = new DatabaseSync(join(dataDir, "snapshots.db"));
const pg =
  values.pg === ""
    ? undefined
    : new (await import("pg")).default.Pool({ connectionString: values.pg });
const topic = `agg-bench-${process.pid}`;

async function preload(subject: string): Promise<void> {
  for (let sent = 0; sent < EVENTS; sent += PRELOAD_BATCH) {
    const count = Math.min(PRELOAD_BATCH, EVENTS - sent);
    await client.publish(
      topic,
      Array.from({ length: count }, () => ({ type: "counter.added", subject, data: { n: 1 } })),
    );
  }
}

async function measure(mode: string, store: SnapshotStore<Counter> | undefined) {
  const subject = `counter-${mode.replace(/\W+/g, "-")}`;
  await preload(subject);
  const counter = client.aggregate<Counter, number>({
    topic,
    initialState: { total: 0 },
    evolve: (state, event: StoredEvent) => ({
      total: state.total + (event.data as { n: number }).n,
    }),
    decide: (n) => ({ type: "counter.added", data: { n } }),
    ...(store === undefined ? {} : { snapshots: { store, every: EVERY } }),
  });
  await counter.handle(subject, 1);
  const runMedians: number[] = [];
  let version = 0;
  for (let run = 0; run < RUNS; run++) {
    const latencies: number[] = [];
    for (let i = 0; i < HANDLES; i++) {
      const at = performance.now();
      version = (await counter.handle(subject, 1)).version;
      latencies.push(performance.now() - at);
    }
    runMedians.push(Number(median(latencies).toFixed(2)));
  }
  return { mode, medianMs: median(runMedians), runMedians, finalVersion: version };
}

try {
  await client.admin.topics.put(topic, { indexes: ["subject"] });
  const modes: [string, SnapshotStore<Counter> | undefined][] = [
    ["no snapshots", undefined],
    [`SQLite snapshots every ${EVERY}`, sqliteSnapshotStore<Counter>(snapshotsDb)],
  ];
  if (pg) modes.push([`PostgreSQL snapshots every ${EVERY}`, pgSnapshotStore<Counter>(pg)]);
  const results = [];
  for (const [mode, store] of modes) results.push(await measure(mode, store));
  const engine = values.nats === "" ? "SQLite (fsync always)" : "NATS";
  console.log(
    `\nhandle() on a ${EVENTS}-event stream, ${engine}, ${RUNS} runs of ${HANDLES} handles`,
  );
  // The ratio moves less with the machine's load than the latencies do.
  const baseline = results[0]?.medianMs ?? 0;
  console.log("| mode | median of run medians | run medians (ms) | vs no snapshots |");
  console.log("| --- | --- | --- | --- |");
  for (const r of results)
    console.log(
      `| ${r.mode} | ${r.medianMs.toFixed(2)} ms | ${r.runMedians.join(" / ")} | ${r === results[0] ? "—" : `${(baseline / r.medianMs).toFixed(1)}× faster`} |`,
    );
  console.log(
    JSON.stringify({
      bench: "aggregate",
      engine,
      events: EVENTS,
      handles: HANDLES,
      runs: RUNS,
      every: EVERY,
      results,
    }),
  );
} finally {
  await client.close();
  await pg?.end();
  snapshotsDb.close();
  await router.close();
  rmSync(dataDir, { recursive: true, force: true });
}
