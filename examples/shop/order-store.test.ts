/**
 * Checkout's order aggregate and its event store on a real PostgreSQL database (a fresh one
 * per run): each command's events and their outbox rows commit together or not at all,
 * concurrent commands on one order are decided one after the other, and the lifecycle's
 * rules hold (no shipping unpaid, no paying cancelled, a repeated command changes nothing).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databasePerFile } from "../../test/support/postgres.ts";
import type { OrderPlaced } from "./lib/events.ts";
import { OrderNotFound, OrderRefused } from "./lib/order.ts";
import { type ContractCheck, OrderStore } from "./lib/order-store.ts";

const CLI = join(import.meta.dirname, "../../bin/switchyard.js");
const database = databasePerFile();
let pool: pg.Pool;
/** Types the check refuses, as the registry would a type whose schema the event breaks. */
const refused = new Set<string>();
const check: ContractCheck = async (type) => {
  if (refused.has(type)) throw new Error(`${type} breaks its contract`);
};
let store: OrderStore;
let serial = 0;

function newOrder(customerId = "alice"): OrderPlaced {
  serial += 1;
  return {
    orderId: `o-${serial.toString(16).padStart(8, "0")}`,
    customerId,
    email: `${customerId}@example.com`,
    lines: [{ sku: "mug", name: "Switchyard mug", qty: 2, unitPrice: 12 }],
    total: 24,
    placedAt: new Date().toISOString(),
  };
}

interface OutboxRow {
  topic: string;
  event: Record<string, unknown>;
}

async function outboxOf(orderId: string): Promise<OutboxRow[]> {
  const { rows } = await pool.query<OutboxRow>(
    "SELECT topic, event FROM outbox WHERE event->>'subject' = $1 ORDER BY id",
    [orderId],
  );
  return rows;
}

async function versionsOf(orderId: string): Promise<[number, string][]> {
  const { rows } = await pool.query<{ version: number; type: string }>(
    "SELECT version, type FROM order_events WHERE order_id = $1 ORDER BY version",
    [orderId],
  );
  return rows.map((r) => [r.version, r.type]);
}

const now = () => new Date().toISOString();

beforeAll(async () => {
  // The outbox table as the fleet makes it: with the CLI.
  await promisify(execFile)(process.execPath, [CLI, "outbox", "init", "--postgres", database.url]);
  pool = new pg.Pool({ connectionString: database.url, max: 12 });
  store = new OrderStore(pool, check);
  await store.init();
});

afterAll(async () => {
  await pool?.end();
});

describe("checkout's order store", () => {
  it("writes each event at the next version and, in the same transaction, its outbox row", async () => {
    const order = newOrder();
    const placed = await store.handle(order.orderId, { type: "place", order });
    expect(placed).toMatchObject({ version: 1, state: { status: "placed", paid: 0 } });
    await store.handle(order.orderId, { type: "pay", at: now() }, { causationid: order.orderId });
    expect(await versionsOf(order.orderId)).toEqual([
      [1, "OrderPlaced"],
      [2, "OrderPaid"],
    ]);
    const rows = await outboxOf(order.orderId);
    expect(rows.map((r) => [r.topic, r.event.type, r.event.id])).toEqual([
      ["orders", "OrderPlaced", order.orderId],
      ["orders", "OrderPaid", `${order.orderId}.OrderPaid`],
    ]);
    expect(rows[1]?.event).toMatchObject({
      source: "/shop/checkout",
      subject: order.orderId,
      correlationid: order.orderId,
      causationid: order.orderId,
      partitionkey: "alice",
      data: { orderId: order.orderId, amount: 24 },
    });
  });

  it("decides concurrent commands on one order one after the other: ten payments, one OrderPaid", async () => {
    const order = newOrder("bob");
    await store.handle(order.orderId, { type: "place", order });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.handle(order.orderId, { type: "pay", at: now() })),
    );
    expect(results.filter((r) => r.events.length === 1)).toHaveLength(1);
    expect(results.every((r) => r.state.status === "paid" && r.version === 2)).toBe(true);
    expect(await versionsOf(order.orderId)).toEqual([
      [1, "OrderPlaced"],
      [2, "OrderPaid"],
    ]);
    expect(await outboxOf(order.orderId)).toHaveLength(2);
  });

  it("commits nothing of a command whose event breaks its contract, nor of the writes beside it", async () => {
    const order = newOrder();
    refused.add("OrderPlaced");
    try {
      await expect(
        store.handle(
          order.orderId,
          { type: "place", order },
          {
            alsoInTransaction: async (tx) => {
              await tx.query("INSERT INTO outbox (topic, event) VALUES ('reminders', $1)", [
                JSON.stringify({ specversion: "1.0", id: "r", source: "/t", type: "T" }),
              ]);
            },
          },
        ),
      ).rejects.toThrow("OrderPlaced breaks its contract");
    } finally {
      refused.clear();
    }
    expect(await versionsOf(order.orderId)).toEqual([]);
    const { rows } = await pool.query("SELECT 1 FROM outbox WHERE topic = 'reminders'");
    expect(rows).toEqual([]);
  });

  it("writes the reminder beside the order, and knows when the relay has published it", async () => {
    const order = newOrder();
    await store.handle(
      order.orderId,
      { type: "place", order },
      {
        alsoInTransaction: async (tx) => {
          await tx.query("INSERT INTO outbox (topic, event) VALUES ('reminders', $1)", [
            JSON.stringify({
              specversion: "1.0",
              id: `reminder-${order.orderId}`,
              source: "/shop/checkout",
              type: "PaymentReminderDue",
            }),
          ]);
        },
      },
    );
    expect(await store.published(`reminder-${order.orderId}`)).toBe(false);
    // What the relay does once the row is in the log: its cursor passes the row's id.
    await pool.query("UPDATE outbox_relay SET published_to = (SELECT max(id) FROM outbox)");
    expect(await store.published(`reminder-${order.orderId}`)).toBe(true);
    expect(await store.published("reminder-o-unknown")).toBe(false);
  });

  it("keeps the lifecycle: no shipping unpaid, a cancellation refunds what was paid, nothing after it", async () => {
    const order = newOrder("carol");
    const id = order.orderId;
    await store.handle(id, { type: "place", order });
    await expect(store.handle(id, { type: "ship", shipmentId: "s", at: now() })).rejects.toThrow(
      OrderRefused,
    );
    await store.handle(id, { type: "pay", at: now() });
    const cancelled = await store.handle(id, { type: "cancel", skus: ["mug"], at: now() });
    expect(cancelled.events).toEqual([
      {
        type: "OrderCancelled",
        data: expect.objectContaining({ reason: "out-of-stock", skus: ["mug"], refunded: 24 }),
      },
    ]);
    // A redelivered OutOfStock: cancelled already, nothing new.
    expect((await store.handle(id, { type: "cancel", skus: ["mug"], at: now() })).events).toEqual(
      [],
    );
    await expect(store.handle(id, { type: "pay", at: now() })).rejects.toThrow("was cancelled");
    await expect(store.handle(id, { type: "place", order })).rejects.toThrow(OrderRefused);
    expect((await store.load(id)).state).toMatchObject({ status: "cancelled", paid: 0 });
    expect((await versionsOf(id)).map(([, type]) => type)).toEqual([
      "OrderPlaced",
      "OrderPaid",
      "OrderCancelled",
    ]);
  });

  it("ships a paid order once, however often fulfillment asks", async () => {
    const order = newOrder("dave");
    const id = order.orderId;
    await store.handle(id, { type: "place", order });
    await store.handle(id, { type: "pay", at: now() });
    const first = await store.handle(id, { type: "ship", shipmentId: `ship-${id}`, at: now() });
    const again = await store.handle(id, { type: "ship", shipmentId: `ship-${id}`, at: now() });
    expect([first.events.length, again.events.length]).toEqual([1, 0]);
    expect(again).toMatchObject({ version: 3, state: { status: "shipped" } });
    await expect(store.handle(id, { type: "cancel", skus: ["mug"], at: now() })).rejects.toThrow(
      "has shipped",
    );
  });

  it("refuses a command on an order it does not have", async () => {
    await expect(store.handle("o-ffffffff", { type: "pay", at: now() })).rejects.toThrow(
      OrderNotFound,
    );
  });
});
