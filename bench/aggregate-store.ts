/**
 * `aggregate.handle()` latency by event store: the router (the default, `expectedVersion`
 * over HTTP) against `pgAggregateStore` (the stream in PostgreSQL, each event enqueued in the
 * outbox in the append's transaction; no relay runs). Per run, `--subjects` fresh subjects
 * get `--handles` commands each, one after another, so streams stay short and the figure is
 * the append path, not the fold. Prints a table and a JSON line: per store, the median of
 * the runs' median latencies, and each run's.
 * Run: npm run bench:aggregate-store -- --pg postgres://postgres@127.0.0.1:5432/db
 *        [--subjects 10] [--handles 10] [--runs 5]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import {
  type AggregateStore,
  createClient,
  pgAggregateStore,
  type StoredEvent,
} from "../dist/client/index.js";
import { startRouter } from "../dist/index.js";
import { initOutbox } from "../dist/outbox/relay.js";
import { benchArgs, invalidOption } from "./args.ts";

const values = benchArgs("bench/aggregate-store.ts", {
  subjects: { type: "string", default: "10" },
  handles: { type: "string", default: "10" },
  runs: { type: "string", default: "5" },
  pg: { type: "string", default: "" },
});
if (values.pg === "")
  invalidOption(
    "bench/aggregate-store.ts",
    "needs --pg postgres://…/db (a database it may write to)",
  );
const SUBJECTS = Number(values.subjects);
const HANDLES = Number(values.handles);
const RUNS = Number(values.runs);

function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const dataDir = mkdtempSync(join(tmpdir(), "sy-agg-store-bench-"));
const router = await startRouter({ port: 0, logLevel: "silent", dataDir });
const client = createClient({ url: router.url });
const pool = new pg.Pool({ connectionString: values.pg, max: 4 });
const topic = `agg-store-bench-${process.pid}`;
const eventsTable = `bench_events_${process.pid}`;
const outboxTable = `bench_outbox_${process.pid}`;

async function measure(name: string, store: AggregateStore<pg.PoolClient> | undefined) {
  const counter = client.aggregate<{ total: number }, number, pg.PoolClient>({
    topic,
    initialState: { total: 0 },
    evolve: (state, event: StoredEvent) => ({
      total: state.total + (event.data as { n: number }).n,
    }),
    decide: (n) => ({ type: "counter.added", data: { n } }),
    ...(store === undefined ? {} : { store }),
  });
  await counter.handle(`${name}-warm`, 1);
  const runMedians: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const latencies: number[] = [];
    for (let s = 0; s < SUBJECTS; s++)
      for (let i = 0; i < HANDLES; i++) {
        const at = performance.now();
        await counter.handle(`${name}-${run}-${s}`, 1);
        latencies.push(performance.now() - at);
      }
    runMedians.push(Number(median(latencies).toFixed(2)));
  }
  return { store: name, medianMs: median(runMedians), runMedians };
}

try {
  await client.admin.topics.put(topic, { indexes: ["subject"] });
  await initOutbox(values.pg, outboxTable);
  const pgStore = pgAggregateStore<pg.PoolClient>(pool, {
    table: eventsTable,
    outbox: { table: outboxTable },
  });
  const results = [await measure("router", undefined), await measure("postgres", pgStore)];
  console.log(
    `\nhandle() by store, ${RUNS} runs of ${SUBJECTS} subjects × ${HANDLES} handles (router: SQLite, fsync always)`,
  );
  console.log("| store | median of run medians | run medians (ms) |");
  console.log("| --- | --- | --- |");
  for (const r of results)
    console.log(`| ${r.store} | ${r.medianMs.toFixed(2)} ms | ${r.runMedians.join(" / ")} |`);
  console.log(
    JSON.stringify({
      bench: "aggregate-store",
      subjects: SUBJECTS,
      handles: HANDLES,
      runs: RUNS,
      results,
    }),
  );
} finally {
  await pool.query(`DROP TABLE IF EXISTS ${eventsTable}`).catch(() => undefined);
  await pool
    .query(`DROP TABLE IF EXISTS ${outboxTable}, ${outboxTable}_relay CASCADE`)
    .catch(() => undefined);
  await pool.query(`DROP SEQUENCE IF EXISTS ${outboxTable}_id_seq`).catch(() => undefined);
  await pool.query(`DROP FUNCTION IF EXISTS ${outboxTable}_stamp CASCADE`).catch(() => undefined);
  await client.close();
  await pool.end();
  await router.close();
  rmSync(dataDir, { recursive: true, force: true });
}
