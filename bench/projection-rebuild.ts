/**
 * Projection rebuild speed: preloads `--events` order events (`--keys` orders, one
 * `order.placed` then `order.updated`s each) into a router running as a child process (the
 * real CLI, fresh data dir), then rebuilds a projection of them from the beginning through
 * its temporary subscription into fresh tables, and reports events/s of the rebuild (swap
 * included). The store is SQLite (a file in WAL mode, default synchronous) or PostgreSQL
 * (`--store pg`, a fresh database on 127.0.0.1:5432).
 * Run: npm run bench:rebuild [-- --events 1000000 --keys 100000 --store sqlite|pg --fsync always|interval]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  createClient,
  type PgProjectionTx,
  type ProjectionOptions,
  pgProjectionStore,
  projection,
  type SqliteProjectionTx,
  sqliteProjectionStore,
} from "../dist/client/index.js";
import { startRouterProcess } from "../test/support/router-process.ts";
import { benchArgs } from "./args.ts";
import { windowed } from "./load.ts";

const values = benchArgs("bench/projection-rebuild.ts", {
  events: { type: "string", default: "1000000" },
  keys: { type: "string", default: "" },
  store: { type: "string", default: "sqlite" },
  fsync: { type: "string", default: "always" },
  concurrency: { type: "string", default: "2000" },
  batch: { type: "string", default: "1000" },
});
const EVENTS = Number(values.events);
const KEYS = Number(values.keys || Math.max(1, Math.floor(EVENTS / 10)));
const PRELOAD_BATCH = 10_000;
const PRELOAD_CLIENTS = 4;
const MAX_MS = 30 * 60_000;
if (!Number.isInteger(EVENTS) || EVENTS < 1 || !Number.isInteger(KEYS) || KEYS < 1)
  throw new Error("--events and --keys must be positive integers");
if (values.store !== "sqlite" && values.store !== "pg") throw new Error("--store is sqlite or pg");
if (values.fsync !== "always" && values.fsync !== "interval")
  throw new Error("--fsync is always or interval");

const dir = mkdtempSync(join(tmpdir(), "sy-bench-rebuild-"));
const router = await startRouterProcess({ dataDir: join(dir, "router"), fsync: values.fsync });
const cleanups: (() => Promise<void>)[] = [];
try {
  const client = createClient({ url: router.url });
  cleanups.push(() => client.close());
  const topic = "orders";
  await client.admin.topics.put(topic);

  // The placed events first, in order; then the updates, which commute, from several clients
  // at once (one client keeps each key's batches one at a time, and every batch holds most keys).
  const loaders = Array.from({ length: PRELOAD_CLIENTS }, () =>
    createClient({
      url: router.url,
      batch: { maxEvents: PRELOAD_BATCH, maxBytes: 8 * 1024 * 1024, lingerMs: 1 },
    }),
  );
  const preloadStarted = performance.now();
  const eventAt = (seq: number): { type: string; partitionkey: string; data: object } => {
    const id = `o${seq % KEYS}`;
    return seq < KEYS
      ? { type: "order.placed", partitionkey: id, data: { id, total: seq % 1000 } }
      : { type: "order.updated", partitionkey: id, data: { id, add: 1 } };
  };
  const load = async (from: number, to: number, window: number) => {
    const batches = Math.ceil((to - from) / PRELOAD_BATCH);
    const result = await windowed(batches, window, MAX_MS, async (b) => {
      const first = from + b * PRELOAD_BATCH;
      const size = Math.min(PRELOAD_BATCH, to - first);
      await loaders[b % loaders.length]?.publish(
        topic,
        Array.from({ length: size }, (_, i) => eventAt(first + i)),
      );
    });
    if (result.errors > 0 || result.done < batches)
      throw new Error(`preload failed: ${result.firstError ?? "time limit"}`);
  };
  await load(0, Math.min(KEYS, EVENTS), 1);
  await load(Math.min(KEYS, EVENTS), EVENTS, PRELOAD_CLIENTS * 2);
  await Promise.all(loaders.map((loader) => loader.close()));
  const preloadSeconds = (performance.now() - preloadStarted) / 1000;
  console.log(
    `preloaded ${EVENTS.toLocaleString("en-US")} events (${KEYS.toLocaleString("en-US")} keys) in ${preloadSeconds.toFixed(1)} s`,
  );

  const common = {
    client,
    name: "bench",
    subscription: { topic },
    rebuildConcurrency: Number(values.concurrency),
    batchSize: Number(values.batch),
  };
  const ddl = {
    orders:
      "CREATE TABLE {orders} (id TEXT PRIMARY KEY, total INTEGER NOT NULL, updates INTEGER NOT NULL)",
  };
  let count: () => Promise<number>;
  let rebuild: ReturnType<typeof projection>;
  if (values.store === "sqlite") {
    const file = join(dir, "model.sqlite");
    const db = new DatabaseSync(file);
    db.exec("PRAGMA journal_mode = WAL");
    const options: ProjectionOptions<SqliteProjectionTx> = {
      ...common,
      store: sqliteProjectionStore(db, { tables: ddl }),
      handlers: {
        "order.placed": (event, tx) => {
          const data = event.data as { id: string; total: number };
          tx.run("INSERT INTO {orders} (id, total, updates) VALUES (?, ?, 0)", [
            data.id,
            data.total,
          ]);
        },
        "order.updated": (event, tx) => {
          const data = event.data as { id: string; add: number };
          tx.run("UPDATE {orders} SET updates = updates + ? WHERE id = ?", [data.add, data.id]);
        },
      },
    };
    rebuild = projection(options);
    count = async () =>
      Number(
        (db.prepare("SELECT sum(updates) + count(*) AS n FROM orders").get() as { n: number }).n,
      );
  } else {
    const pg = (await import("pg")).default;
    const { createTestDatabase } = await import("../test/support/postgres.ts");
    const database = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: database.url, max: 4 });
    cleanups.push(async () => {
      await pool.end();
      await database.drop();
    });
    const options: ProjectionOptions<PgProjectionTx> = {
      ...common,
      store: pgProjectionStore(pool, { tables: ddl }),
      handlers: {
        "order.placed": async (event, tx) => {
          const data = event.data as { id: string; total: number };
          await tx.run("INSERT INTO {orders} (id, total, updates) VALUES ($1, $2, 0)", [
            data.id,
            data.total,
          ]);
        },
        "order.updated": async (event, tx) => {
          const data = event.data as { id: string; add: number };
          await tx.run("UPDATE {orders} SET updates = updates + $1 WHERE id = $2", [
            data.add,
            data.id,
          ]);
        },
      },
    };
    rebuild = projection(options);
    count = async () =>
      Number((await pool.query("SELECT sum(updates) + count(*) AS n FROM orders")).rows[0]?.n);
  }

  const started = performance.now();
  await rebuild.rebuild({
    onProgress: (p) =>
      console.log(
        `  ${p.applied.toLocaleString("en-US")} / ${p.total.toLocaleString("en-US")}  ${p.eventsPerSecond.toLocaleString("en-US")} events/s`,
      ),
  });
  const seconds = (performance.now() - started) / 1000;
  const applied = await count();
  if (applied !== EVENTS)
    throw new Error(`the rebuilt read model counts ${applied} events, not ${EVENTS}`);
  console.log(
    `rebuild (${values.store} store, router fsync ${values.fsync}): ${EVENTS.toLocaleString("en-US")} events in ${seconds.toFixed(1)} s = ${Math.round(EVENTS / seconds).toLocaleString("en-US")} events/s`,
  );
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await router.stop();
  rmSync(dir, { recursive: true, force: true });
}
