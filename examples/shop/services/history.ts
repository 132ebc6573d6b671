/**
 * Order history: a projection (CQRS read model) of the order events — every order, its lines,
 * total and where it is in its life (placed, paid, shipped, cancelled) — in the service's own
 * SQLite database, built by the SDK's `projection()`: each event's writes commit with its
 * checkpoint, so a redelivered or replayed event changes nothing. Queryable:
 * `GET /orders` (the company), `GET /customers/<id>/orders` (one customer).
 *
 * `POST /rebuild` rebuilds it while the shop runs: the projection replays the `orders` topic
 * from the start into fresh tables through a temporary subscription, the live table keeps
 * answering (and following new events) meanwhile, and the fresh one replaces it in one
 * transaction once it holds everything. `GET /rebuild` (and the page) shows the progress.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type SQLOutputValue } from "node:sqlite";
import {
  projection,
  type RebuildProgress,
  type SqliteProjectionTx,
  sqliteProjectionStore,
} from "switchyard/client";
import { routerClient, serviceEnv } from "../lib/env.ts";
import type { OrderCancelled, OrderPaid, OrderPlaced, OrderShipped } from "../lib/events.ts";
import { json, serve } from "../lib/http.ts";
import { onlyTypes, RETRIES } from "../lib/subscriptions.ts";

const service = serviceEnv("history");
const { port, dataDir } = service;
const client = routerClient(service, "/shop/history");

mkdirSync(dataDir, { recursive: true });
const file = join(dataDir, "history.db");
// The projection's own connection (its transactions stay open while handlers run) and one
// for the queries, which WAL lets read the committed view meanwhile.
const db = new DatabaseSync(file);
db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000");
const reader = new DatabaseSync(file);
reader.exec("PRAGMA busy_timeout = 5000");

const store = sqliteProjectionStore(db, {
  tables: {
    orders: `CREATE TABLE {orders} (
      order_id TEXT PRIMARY KEY,
      customer_id TEXT NOT NULL,
      email TEXT NOT NULL,
      correlationid TEXT NOT NULL,
      status TEXT NOT NULL,
      lines TEXT NOT NULL,
      total REAL NOT NULL,
      coupon_code TEXT,
      placed_at TEXT NOT NULL,
      paid_at TEXT,
      shipped_at TEXT,
      cancelled_at TEXT,
      version INTEGER NOT NULL
    )`,
  },
});

/** Moves an order on in its life; `version` is the event's place in the order's stream. */
function step(tx: SqliteProjectionTx, orderId: string, set: string, params: string[], v: number) {
  tx.run(`UPDATE {orders} SET ${set}, version = ? WHERE order_id = ?`, [...params, v, orderId]);
}

const history = projection({
  client,
  name: "history",
  subscription: "history",
  store,
  handlers: {
    OrderPlaced: (event, tx: SqliteProjectionTx) => {
      const o = event.data as OrderPlaced;
      tx.run(
        `INSERT INTO {orders} (order_id, customer_id, email, correlationid, status, lines, total,
           coupon_code, placed_at, version) VALUES (?, ?, ?, ?, 'placed', ?, ?, ?, ?, ?)`,
        [
          o.orderId,
          o.customerId,
          o.email,
          String(event.correlationid),
          JSON.stringify(o.lines),
          o.total,
          o.couponCode ?? null,
          o.placedAt,
          event.subjectversion ?? 1,
        ],
      );
    },
    OrderPaid: (event, tx: SqliteProjectionTx) => {
      const o = event.data as OrderPaid;
      step(tx, o.orderId, "status = 'paid', paid_at = ?", [o.paidAt], event.subjectversion ?? 0);
    },
    OrderShipped: (event, tx: SqliteProjectionTx) => {
      const o = event.data as OrderShipped;
      step(
        tx,
        o.orderId,
        "status = 'shipped', shipped_at = ?",
        [o.shippedAt],
        event.subjectversion ?? 0,
      );
    },
    OrderCancelled: (event, tx: SqliteProjectionTx) => {
      const o = event.data as OrderCancelled;
      step(
        tx,
        o.orderId,
        "status = 'cancelled', cancelled_at = ?",
        [o.cancelledAt],
        event.subjectversion ?? 0,
      );
    },
  },
});

/** A row as the page and the API show it: the OrderPlaced fields plus where the order is. */
function entryOf(row: Record<string, SQLOutputValue>) {
  const optional = (key: string, value: SQLOutputValue) =>
    value === null ? {} : { [key]: String(value) };
  return {
    orderId: String(row.order_id),
    customerId: String(row.customer_id),
    email: String(row.email),
    lines: JSON.parse(String(row.lines)) as OrderPlaced["lines"],
    total: Number(row.total),
    placedAt: String(row.placed_at),
    ...optional("couponCode", row.coupon_code ?? null),
    correlationid: String(row.correlationid),
    status: String(row.status),
    ...optional("paidAt", row.paid_at ?? null),
    ...optional("shippedAt", row.shipped_at ?? null),
    ...optional("cancelledAt", row.cancelled_at ?? null),
    version: Number(row.version),
  };
}

/** Reads the view `orders`, which always selects from the live generation's table. */
function orders(customerId?: string) {
  const rows =
    customerId === undefined
      ? reader.prepare("SELECT * FROM orders ORDER BY placed_at, order_id").all()
      : reader
          .prepare("SELECT * FROM orders WHERE customer_id = ? ORDER BY placed_at, order_id")
          .all(customerId);
  return rows.map(entryOf);
}

interface Rebuild {
  state: "idle" | "rebuilding" | "done" | "failed";
  progress?: RebuildProgress;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  /** How many rebuilds finished since this process started. */
  rebuilds: number;
}
const rebuild: Rebuild = { state: "idle", rebuilds: 0 };

function startRebuild(): boolean {
  if (rebuild.state === "rebuilding") return false;
  Object.assign(rebuild, { state: "rebuilding", startedAt: new Date().toISOString() });
  delete rebuild.progress;
  delete rebuild.finishedAt;
  delete rebuild.error;
  history
    .rebuild({
      onProgress: (progress) => {
        rebuild.progress = progress;
      },
    })
    .then(
      () => {
        rebuild.rebuilds += 1;
        Object.assign(rebuild, { state: "done", finishedAt: new Date().toISOString() });
      },
      (error: unknown) => {
        Object.assign(rebuild, { state: "failed", error: String(error) });
      },
    );
  return true;
}

/** The rebuild's progress, the projection's status and the live table's generation. */
const rebuildView = () => ({
  ...rebuild,
  projection: history.status(),
  table: store.table("orders"),
});

const url = await serve(port, {
  "GET /state": () => json({ orders: orders(), rebuild: rebuildView() }),
  "GET /orders": () => json(orders()),
  "GET /customers/*": ({ path }) => json(orders(path.split("/")[2] ?? "")),
  "GET /rebuild": () => json(rebuildView()),
  "POST /rebuild": () =>
    startRebuild() ? json(rebuildView(), 202) : json({ error: "already rebuilding" }, 409),
});
await client.admin.subscriptions.put("history", {
  topic: "orders",
  filter: onlyTypes(["OrderPlaced", "OrderPaid", "OrderShipped", "OrderCancelled"]),
  // One order's events (one customer's: partitionkey) in order: an update finds its row.
  ordering: "key",
  start: "earliest",
  ...RETRIES,
});
await history.start();
console.log(`history ready ${url}`);
process.on(
  "SIGTERM",
  () =>
    void history
      .stop()
      .then(() => client.close())
      .then(() => process.exit(0)),
);
