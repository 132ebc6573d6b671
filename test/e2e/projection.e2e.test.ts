import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  type Projection,
  projection,
  type SqliteProjectionTx,
  type SwitchyardClient,
  sqliteProjectionStore,
} from "../../src/client/index.js";
import { beginGeneration } from "../../src/client/projection-store.js";
import { ManualClock } from "../../src/testing/index.js";
import { eventually } from "../support/eventually.js";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import { routerPerFile, startTestRouter, type TestRouter, uniqueName } from "../support/router.js";
import { TEST_SECRET_KEY } from "../support/router-process.js";

const dir = mkdtempSync(join(tmpdir(), "switchyard-projection-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TABLES = {
  orders: [
    "CREATE TABLE {orders} (id TEXT PRIMARY KEY, total INTEGER NOT NULL, status TEXT NOT NULL, events INTEGER NOT NULL)",
    "CREATE INDEX {orders}_by_status ON {orders} (status)",
  ],
};

/** Deliberately not idempotent: an event applied twice shows as `events` one too high. */
const HANDLERS = {
  "order.placed": (event: { data?: unknown }, tx: SqliteProjectionTx) => {
    const data = event.data as { id: string; total: number };
    tx.run("INSERT INTO {orders} (id, total, status, events) VALUES (?, ?, 'placed', 1)", [
      data.id,
      data.total,
    ]);
  },
  "order.shipped": (event: { data?: unknown }, tx: SqliteProjectionTx) => {
    const data = event.data as { id: string };
    tx.run("UPDATE {orders} SET status = 'shipped', events = events + 1 WHERE id = ?", [data.id]);
  },
};

interface OrderRow {
  readonly id: string;
  readonly total: number;
  readonly status: string;
  readonly events: number;
}

function openDb(file: string): DatabaseSync {
  const db = new DatabaseSync(file);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000");
  return db;
}

function rows(db: DatabaseSync): OrderRow[] {
  return db
    .prepare("SELECT id, total, status, events FROM orders ORDER BY id")
    .all() as unknown as OrderRow[];
}

/** Publishes `count` orders: each placed, and every even one shipped too. */
async function publishOrders(client: SwitchyardClient, topic: string, from: number, count: number) {
  const events = [];
  for (let n = from; n < from + count; n++) {
    const id = `o${String(n).padStart(5, "0")}`;
    events.push({ type: "order.placed", partitionkey: id, data: { id, total: n } });
    if (n % 2 === 0) events.push({ type: "order.shipped", partitionkey: id, data: { id } });
  }
  await client.publish(topic, events);
}

function expected(from: number, count: number): OrderRow[] {
  const out: OrderRow[] = [];
  for (let n = from; n < from + count; n++)
    out.push({
      id: `o${String(n).padStart(5, "0")}`,
      total: n,
      status: n % 2 === 0 ? "shipped" : "placed",
      events: n % 2 === 0 ? 2 : 1,
    });
  return out;
}

describe("projection on the SQLite store: sqlite engine", () => {
  projectionTests(routerPerFile());
});

describe.runIf(natsServerAvailable())("projection on the SQLite store: nats engine", () => {
  let nats: NatsServers | undefined;
  let router: TestRouter | undefined;
  beforeAll(async () => {
    nats = await startNatsServer();
    router = await startTestRouter({
      engine: "nats",
      nats: { url: nats.url, prefix: uniqueName("PJ").replace(/[^A-Za-z0-9]/g, "") },
      secretKeys: TEST_SECRET_KEY,
    });
  }, 60_000);
  afterAll(async () => {
    await router?.dispose();
    await nats?.close();
  });
  projectionTests({
    get url() {
      if (router === undefined) throw new Error("the router is used before beforeAll");
      return router.url;
    },
  });
});

function projectionTests(router: { readonly url: string }): void {
  const open: Projection[] = [];
  const clients: SwitchyardClient[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.stop();
    for (const c of clients.splice(0)) await c.close();
  });
  const setup = async () => {
    const client = createClient({ url: router.url });
    clients.push(client);
    const topic = uniqueName("orders");
    await client.admin.topics.put(topic);
    const file = join(dir, `${uniqueName("db")}.sqlite`);
    const db = openDb(file);
    const reader = openDb(file);
    const store = sqliteProjectionStore(db, { tables: TABLES });
    return { client, topic, db, reader, store };
  };

  it("applies events and answers reads from the view and the physical table", async () => {
    const { client, topic, reader, store } = await setup();
    await publishOrders(client, topic, 0, 50);
    const p = projection({
      client,
      name: uniqueName("hist"),
      subscription: { topic },
      store,
      handlers: { ...HANDLERS, "order.noise": () => {} },
    });
    open.push(p);
    await p.start();
    await client.publish(topic, { type: "unknown.type", data: {} });
    await eventually(() => expect(rows(reader)).toEqual(expected(0, 50)), { timeoutMs: 10_000 });
    expect(store.table("orders")).toBe("orders__r1");
    expect(reader.prepare("SELECT count(*) AS n FROM orders__r1").get()).toEqual({ n: 50 });
    // The unknown type is checkpointed and acked too: nothing is left to deliver.
    await eventually(async () => {
      const stats = (await client.admin.subscriptions.get(p.subscription)).stats;
      expect(stats).toMatchObject({ lag: 0, inFlight: 0 });
      expect(p.status()).toMatchObject({ state: "running", checkpoint: 76 });
    });
  });

  it("does not apply an event twice when it is delivered again", async () => {
    const { client, topic, reader, store } = await setup();
    await publishOrders(client, topic, 0, 40);
    let calls = 0;
    const counted = Object.fromEntries(
      Object.entries(HANDLERS).map(([type, handle]) => [
        type,
        (event: { data?: unknown }, tx: SqliteProjectionTx) => {
          calls++;
          handle(event, tx);
        },
      ]),
    );
    const name = uniqueName("redeliver");
    const p = projection({ client, name, subscription: { topic }, store, handlers: counted });
    open.push(p);
    await p.start();
    await eventually(() => expect(rows(reader)).toEqual(expected(0, 40)), { timeoutMs: 10_000 });
    expect(calls).toBe(60);
    // Every event comes again: as after a crash between the commit and the ack.
    await client.admin.seek(p.subscription, "earliest");
    await eventually(
      async () => {
        const stats = (await client.admin.subscriptions.get(p.subscription)).stats;
        expect(stats?.acked).toBeGreaterThanOrEqual(120);
        expect(stats).toMatchObject({ lag: 0, inFlight: 0 });
      },
      { timeoutMs: 10_000 },
    );
    expect(calls).toBe(60);
    expect(rows(reader)).toEqual(expected(0, 40));
  });

  it("applies an event whose transaction failed half way when it comes again", async () => {
    const { client, topic, reader, store } = await setup();
    let failed = 0;
    const p = projection({
      client,
      name: uniqueName("halfway"),
      subscription: { topic, ackTimeoutMs: 2_000 },
      store,
      handlers: {
        ...HANDLERS,
        "order.shipped": (event, tx) => {
          HANDLERS["order.shipped"](event, tx);
          // The update above is written; the crash comes before the commit. Twice: the
          // event's own transaction (after its batch's) fails too, so it is nacked.
          if ((event.data as { id: string }).id === "o00004" && failed++ < 2)
            throw new Error("crash mid-transaction");
        },
      },
      onError: () => {},
    });
    open.push(p);
    await p.start();
    await publishOrders(client, topic, 0, 10);
    await eventually(() => expect(rows(reader)).toEqual(expected(0, 10)), { timeoutMs: 15_000 });
    expect(failed).toBe(3);
  });

  it("rebuilds into fresh tables while the old ones serve reads and events keep coming", async () => {
    const { client, topic, reader, store } = await setup();
    await publishOrders(client, topic, 0, 2_000);
    const p = projection({
      client,
      name: uniqueName("rebuild"),
      subscription: { topic },
      store,
      handlers: HANDLERS,
    });
    open.push(p);
    await p.start();
    await eventually(() => expect(rows(reader)).toHaveLength(2_000), { timeoutMs: 20_000 });

    let reads = 0;
    let readFailures = 0;
    let publishing = true;
    const reading = (async () => {
      while (publishing) {
        try {
          if (rows(reader).length >= 2_000) reads++;
        } catch {
          readFailures++;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    let next = 2_000;
    const writing = (async () => {
      while (publishing && next < 3_000) {
        await publishOrders(client, topic, next, 20);
        next += 20;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const progress: number[] = [];
    const rebuilding = p.rebuild({ onProgress: (pr) => progress.push(pr.applied) });
    await eventually(() => expect(p.status().state).toBe("rebuilding"));
    await rebuilding;
    publishing = false;
    await Promise.all([reading, writing]);

    expect(store.table("orders")).toBe("orders__r2");
    expect(reads).toBeGreaterThan(0);
    expect(readFailures).toBe(0);
    expect(progress.at(-1)).toBeGreaterThanOrEqual(3_000);
    expect(
      reader.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'orders__r1%'").all(),
    ).toEqual([]);
    // The live projection goes on writing into the new tables: the result is the whole log.
    await eventually(() => expect(rows(reader)).toEqual(expected(0, next)), { timeoutMs: 20_000 });
    const names = (await client.admin.subscriptions.list()).map((s) => s.name);
    expect(names.filter((n) => n.startsWith(`${p.subscription}-rebuild`))).toEqual([]);
    expect(p.status().state).toBe("running");
  });

  it("rebuilds a stopped projection to the same read model", async () => {
    const { client, topic, reader, store } = await setup();
    await publishOrders(client, topic, 0, 300);
    const p = projection({
      client,
      name: uniqueName("cold"),
      subscription: { topic },
      store,
      handlers: HANDLERS,
    });
    open.push(p);
    await p.start();
    await eventually(() => expect(rows(reader)).toEqual(expected(0, 300)), { timeoutMs: 10_000 });
    await p.stop();
    await p.rebuild();
    expect(store.table("orders")).toBe("orders__r2");
    expect(rows(reader)).toEqual(expected(0, 300));
    expect(p.status().state).toBe("stopped");
  });

  it("clears what a rebuild that died left behind before rebuilding", async () => {
    const { client, topic, reader, store } = await setup();
    await publishOrders(client, topic, 0, 100);
    const name = uniqueName("died");
    const p = projection({ client, name, subscription: { topic }, store, handlers: HANDLERS });
    open.push(p);
    await p.start();
    await eventually(() => expect(rows(reader)).toEqual(expected(0, 100)), { timeoutMs: 10_000 });
    // What a process killed mid-rebuild leaves: generation 2 half built, its subscription.
    const { building } = await beginGeneration(store, name);
    const leftover = `projection-${name}-rebuild-${building}`;
    await client.admin.subscriptions.put(leftover, { topic, start: "earliest", ordering: "key" });
    await p.rebuild();
    expect(store.table("orders")).toBe("orders__r3");
    expect(rows(reader)).toEqual(expected(0, 100));
    const names = (await client.admin.subscriptions.list()).map((s) => s.name);
    expect(names.filter((n) => n.startsWith(`projection-${name}-rebuild`))).toEqual([]);
    const tables = reader
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'orders__r%'")
      .all();
    expect(tables).toEqual([{ name: "orders__r3" }]);
  });
}

describe("projection rebuild after retention removed events", () => {
  const clock = new ManualClock({ start: Date.now() });
  const clients: SwitchyardClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });

  it("refuses with retention_gap unless allowPartial", async () => {
    const router = await startTestRouter({ clock });
    try {
      const client = createClient({ url: router.url });
      clients.push(client);
      const topic = uniqueName("kept");
      await client.admin.topics.put(topic, { retention: { maxEvents: 10 } });
      await publishOrders(client, topic, 0, 10); // 15 events
      await eventually(
        async () => {
          await clock.advance(30_000);
          expect((await client.admin.topics.get(topic)).stats?.firstOffset).toBeGreaterThan(1);
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      const db = openDb(join(dir, `${uniqueName("gap")}.sqlite`));
      const store = sqliteProjectionStore(db, { tables: TABLES });
      const p = projection({
        client,
        name: uniqueName("gap"),
        subscription: { topic },
        store,
        handlers: HANDLERS,
      });
      const refusal = await p.rebuild().catch((error: unknown) => error);
      expect(refusal).toMatchObject({
        code: "conflict",
        problem: { reason: "retention_gap", firstOffset: 6 },
      });
      expect(String(refusal)).toMatch(/retention removed its first 5 events/);
      expect(p.status().state).toBe("stopped");

      await p.rebuild({ allowPartial: true });
      expect(store.table("orders")).toBe("orders__r2");
      // Offsets 6..15: o00003 placed, then o00004 .. o00009.
      const ids = (db.prepare("SELECT id FROM orders ORDER BY id").all() as { id: string }[]).map(
        (r) => r.id,
      );
      expect(ids).toEqual(["o00003", "o00004", "o00005", "o00006", "o00007", "o00008", "o00009"]);
    } finally {
      await router.dispose();
    }
  });
});
