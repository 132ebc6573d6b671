import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  type PgProjectionTx,
  type Projection,
  pgProjectionStore,
  projection,
  type SwitchyardClient,
} from "../../src/client/index.js";
import { eventually } from "../support/eventually.js";
import { databasePerFile } from "../support/postgres.js";
import { routerPerFile, uniqueName } from "../support/router.js";

const TABLES = {
  orders: [
    "CREATE TABLE {orders} (id text PRIMARY KEY, total int NOT NULL, status text NOT NULL, events int NOT NULL)",
    "CREATE INDEX {orders}_by_status ON {orders} (status)",
  ],
};

/** Deliberately not idempotent: an event applied twice shows as `events` one too high. */
const HANDLERS = {
  "order.placed": async (event: { data?: unknown }, tx: PgProjectionTx) => {
    const data = event.data as { id: string; total: number };
    await tx.run("INSERT INTO {orders} (id, total, status, events) VALUES ($1, $2, 'placed', 1)", [
      data.id,
      data.total,
    ]);
  },
  "order.shipped": async (event: { data?: unknown }, tx: PgProjectionTx) => {
    const data = event.data as { id: string };
    await tx.run("UPDATE {orders} SET status = 'shipped', events = events + 1 WHERE id = $1", [
      data.id,
    ]);
  },
};

interface OrderRow {
  readonly id: string;
  readonly total: number;
  readonly status: string;
  readonly events: number;
}

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

describe("projection on the PostgreSQL store", () => {
  const router = routerPerFile();
  const database = databasePerFile();
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: database.url, max: 6 });
  });
  afterAll(() => pool.end());
  const open: Projection[] = [];
  const clients: SwitchyardClient[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.stop();
    for (const c of clients.splice(0)) await c.close();
  });
  const newClient = () => {
    const client = createClient({ url: router.url });
    clients.push(client);
    return client;
  };
  const rows = async (): Promise<OrderRow[]> =>
    (await pool.query<OrderRow>("SELECT id, total, status, events FROM orders ORDER BY id")).rows;

  it("applies once, through redeliveries, and rebuilds under two consumers while serving reads", async () => {
    const client = newClient();
    const topic = uniqueName("orders");
    await client.admin.topics.put(topic);
    await publishOrders(client, topic, 0, 500);
    const name = uniqueName("pg");
    // Two instances of one projection (as two processes would run it), each with its own
    // store object: they share the subscription, the checkpoints and the tables.
    const one = projection({
      client,
      name,
      subscription: { topic },
      store: pgProjectionStore(pool, { tables: TABLES }),
      handlers: HANDLERS,
    });
    const otherStore = pgProjectionStore(pool, { tables: TABLES });
    const other = projection({
      client: newClient(),
      name,
      subscription: { topic },
      store: otherStore,
      handlers: HANDLERS,
    });
    open.push(one, other);
    // At once: both find the projection new, one creates it, the other waits and finds it.
    await Promise.all([one.start(), other.start()]);
    await eventually(async () => expect(await rows()).toEqual(expected(0, 500)), {
      timeoutMs: 15_000,
    });

    await client.admin.seek(one.subscription, "earliest");
    await eventually(
      async () => {
        const stats = (await client.admin.subscriptions.get(one.subscription)).stats;
        expect(stats?.acked).toBeGreaterThanOrEqual(1_500);
        expect(stats).toMatchObject({ lag: 0, inFlight: 0 });
      },
      { timeoutMs: 15_000 },
    );
    expect(await rows()).toEqual(expected(0, 500));

    let reads = 0;
    let publishing = true;
    let next = 500;
    const reading = (async () => {
      while (publishing) {
        if ((await rows()).length >= 500) reads++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const writing = (async () => {
      while (publishing && next < 1_000) {
        await publishOrders(client, topic, next, 10);
        next += 10;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await one.rebuild();
    publishing = false;
    await Promise.all([reading, writing]);
    expect(reads).toBeGreaterThan(0);
    expect(one.status().state).toBe("running");
    await publishOrders(client, topic, next, 200);
    next += 200;
    await eventually(async () => expect(await rows()).toEqual(expected(0, next)), {
      timeoutMs: 15_000,
    });
    // The other instance learnt the new generation from its own transactions.
    expect(otherStore.table("orders")).toBe("orders__r2");
    const tables = await pool.query(
      "SELECT tablename FROM pg_tables WHERE tablename LIKE 'orders__r%' ORDER BY 1",
    );
    expect(tables.rows).toEqual([{ tablename: "orders__r2" }]);
  });
});
