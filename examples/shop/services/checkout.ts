/**
 * Checkout: serves the storefront and keeps every order as an event-sourced aggregate
 * (lib/order.ts) in its own PostgreSQL database (lib/order-store.ts). It never publishes to
 * the router itself: each order event goes into the transactional outbox in the same
 * transaction that stores it, and the relay process publishes it to `orders`. It
 * knows nothing about who listens — email, inventory, history, Slack and profiles subscribe
 * on their own — so adding a consumer never changes this file.
 *
 * Commands: `POST /api/orders` (place; also schedules the payment reminder, in the same
 * transaction), `POST /api/orders/<id>/pay` (from the page; cancels the reminder),
 * `POST /api/orders/<id>/ship` (from fulfillment) and OutOfStock from inventory (cancel: the
 * compensating event; cancels the reminder too). `GET /api/orders/<id>` is the order's
 * state and events. `GET /api/status` gathers every service's state for the page (a
 * convenience for the demo, not part of the event flow).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { createOutbox, type Delivery } from "switchyard/client";
import { ContractCheck, ContractViolation } from "../lib/contract-check.ts";
import { env, routerClient, serviceEnv } from "../lib/env.ts";
import {
  CATALOGUE,
  COUPONS,
  type EventMap,
  type OrderLine,
  type OrderPlaced,
  type OutOfStock,
  type PaymentReminderDue,
} from "../lib/events.ts";
import { json, type Response, serve } from "../lib/http.ts";
import { OrderNotFound, OrderRefused } from "../lib/order.ts";
import { CHECKOUT_SOURCE, type Handled, OrderStore } from "../lib/order-store.ts";
import { peerUrls } from "../lib/peers.ts";
import { handlerOf, onlyType, RETRIES } from "../lib/subscriptions.ts";

const service = serviceEnv("checkout");
const { port } = service;
const client = routerClient(service, CHECKOUT_SOURCE);
const pool = new pg.Pool({ connectionString: env("DATABASE_URL"), max: 4 });
const contracts = new ContractCheck(service.routerUrl, service.apiKey);
const store = new OrderStore(pool, (type, data) => contracts.check(type, data));
const reminderOutbox = createOutbox({ source: CHECKOUT_SOURCE });
/** How long after placement an unpaid order's reminder goes out (the demo: a minute). */
const REMINDER_AFTER_MS = Number(env("REMINDER_AFTER_MS", "60000"));
/** The router refuses a `deliverat` further ahead (400), which would stop the relay. */
const MAX_SCHEDULE_MS = 365 * 24 * 3_600_000;
if (
  !Number.isSafeInteger(REMINDER_AFTER_MS) ||
  REMINDER_AFTER_MS < 0 ||
  REMINDER_AFTER_MS > MAX_SCHEDULE_MS
)
  throw new Error(
    `REMINDER_AFTER_MS must be a whole number of milliseconds up to 365 days, not ${env("REMINDER_AFTER_MS")}`,
  );
/**
 * How long a cancel waits for the relay to have published the reminder it cancels: a
 * payment answers after `PAY_WAIT_MS` at most; the rest goes on in the background.
 */
const PAY_WAIT_MS = 2_000;
const RELAY_WAIT_MS = 60_000;
/** Below the subscription's ack timeout: a longer wait ends in a redelivery anyway. */
const OUT_OF_STOCK_WAIT_MS = 10_000;
await store.init();
const page = (file: string) => readFileSync(new URL(`../public/${file}`, import.meta.url), "utf8");

interface OrderRequest {
  readonly customerId?: unknown;
  readonly lines?: unknown;
  readonly couponCode?: unknown;
}

/** An order the shop itself refuses (400), before anything is written. */
class BadOrder extends Error {}

function toLines(request: OrderRequest): OrderLine[] {
  const lines = Array.isArray(request.lines)
    ? (request.lines as { sku: string; qty: number }[])
    : [];
  return lines.flatMap(({ sku, qty }) => {
    const product = CATALOGUE.find((p) => p.sku === sku);
    const n = Math.floor(Number(qty));
    return product && n > 0 ? [{ sku, name: product.name, qty: n, unitPrice: product.price }] : [];
  });
}

const reminderId = (orderId: string) => `reminder-${orderId}`;

async function placeOrder(request: OrderRequest): Promise<OrderPlaced> {
  const customerId = String(request.customerId ?? "");
  const [first, ...more] = toLines(request);
  if (!/^[a-z0-9-]{1,40}$/.test(customerId) || first === undefined) {
    throw new BadOrder("an order needs a customerId and at least one known sku");
  }
  const lines: OrderPlaced["lines"] = [first, ...more]; // the schema's minItems: 1
  const couponCode = request.couponCode === undefined ? undefined : String(request.couponCode);
  const percentOff = couponCode === undefined ? 0 : COUPONS[couponCode];
  if (percentOff === undefined) throw new BadOrder(`unknown coupon ${couponCode}`);
  const orderId = `o-${randomUUID().slice(0, 8)}`;
  const subtotal = lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0);
  const placedAt = new Date();
  const order: OrderPlaced = {
    orderId,
    customerId,
    email: `${customerId}@example.com`,
    lines,
    total: Math.round(subtotal * (100 - percentOff)) / 100,
    placedAt: placedAt.toISOString(),
    // Optional since OrderPlaced version 2: left out when there is no coupon, so an order
    // without one is valid under version 1 too.
    ...(couponCode === undefined ? {} : { couponCode }),
  };
  // The order id is OrderPlaced's event id (a relay resending it is deduped) and the
  // correlation id every event caused by this order carries on.
  await store.handle(
    orderId,
    { type: "place", order },
    {
      // The reminder is written with the order: scheduled if and only if the order exists.
      alsoInTransaction: (tx) =>
        outboxReminder(tx, order, new Date(placedAt.getTime() + REMINDER_AFTER_MS)),
    },
  );
  return order;
}

/** The payment reminder, a scheduled event: appended at `at` unless cancelled before. */
async function outboxReminder(tx: pg.PoolClient, order: OrderPlaced, at: Date): Promise<void> {
  const data: PaymentReminderDue = {
    orderId: order.orderId,
    customerId: order.customerId,
    email: order.email,
    total: order.total,
  };
  await contracts.check("PaymentReminderDue", data);
  await reminderOutbox.enqueue(tx, {
    topic: "reminders",
    type: "PaymentReminderDue",
    id: reminderId(order.orderId),
    deliverat: at.toISOString(),
    partitionkey: order.customerId,
    correlationid: order.orderId,
    causationid: order.orderId,
    data,
  });
}

/**
 * Takes back the order's pending reminder (paid or cancelled first). A 404 is ambiguous on
 * its own — fired already, or not relayed yet — so the cancel first waits (up to `waitMs`)
 * until the relay has published the reminder's outbox row; then 204 means it will never
 * fire and 404 that it has. Answers which, or "pending" when the relay is slower than
 * `waitMs` (it waits for every older transaction on the server).
 */
async function cancelReminder(
  orderId: string,
  waitMs: number,
): Promise<"cancelled" | "sent" | "pending"> {
  if (!(await relayed(reminderId(orderId), waitMs))) return "pending";
  const source = encodeURIComponent(CHECKOUT_SOURCE);
  const res = await fetch(
    `${service.routerUrl}/v1/topics/reminders/scheduled/${reminderId(orderId)}?source=${source}`,
    {
      method: "DELETE",
      headers: service.apiKey === undefined ? {} : { authorization: `Bearer ${service.apiKey}` },
    },
  );
  if (res.status === 204) return "cancelled";
  if (res.status === 404) return "sent";
  throw new Error(`cancelling ${reminderId(orderId)}: the router answered ${res.status}`);
}

async function relayed(eventId: string, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await store.published(eventId)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A payment never waits long on the relay: after `PAY_WAIT_MS` it answers "pending" and
 * the cancel goes on in the background. (A checkout that stops meanwhile leaves the reminder
 * to fire: the customer gets one needless email.)
 */
async function cancelPaidReminder(orderId: string): Promise<"cancelled" | "sent" | "pending"> {
  const now = await cancelReminder(orderId, PAY_WAIT_MS);
  if (now === "pending") {
    void cancelReminder(orderId, RELAY_WAIT_MS).then(
      (later) =>
        later === "pending" &&
        console.error(`checkout: ${reminderId(orderId)} not cancelled: the relay is stalled`),
      (error: unknown) =>
        console.error(`checkout: cancelling ${reminderId(orderId)} failed: ${String(error)}`),
    );
  }
  return now;
}

function answer(handled: Handled, extra: Record<string, unknown> = {}): Response {
  return json({ status: handled.state.status, version: handled.version, ...extra });
}

/** Runs a command route, answering the caller's mistakes as such (the rest is a 500). */
async function command(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    // An event that breaks its contract: refused here, before it could stall the relay.
    if (error instanceof ContractViolation)
      return json({ error: error.message, code: error.code, errors: error.errors }, 422);
    if (error instanceof OrderRefused)
      return json({ error: error.message }, error instanceof OrderNotFound ? 404 : 409);
    if (error instanceof BadOrder || error instanceof SyntaxError)
      return json({ error: error.message }, 400);
    throw error;
  }
}

/** OutOfStock: cancel the order (the compensating event), caused by inventory's event. */
async function onOutOfStock(delivery: Delivery<OutOfStock, EventMap>): Promise<void> {
  const { orderId, skus } = delivery.event.data;
  await store.handle(
    orderId,
    { type: "cancel", skus, at: new Date().toISOString() },
    { causationid: delivery.event.id },
  );
  // Still "pending": throwing makes the router redeliver OutOfStock, and the cancel runs
  // again (cancelling the order again decides nothing).
  if ((await cancelReminder(orderId, OUT_OF_STOCK_WAIT_MS)) === "pending")
    throw new Error(`the relay has not published ${reminderId(orderId)} yet`);
}

async function stateOf(url: string | null): Promise<unknown> {
  if (url === null) return null; // not started yet: the page says it is down
  try {
    const res = await fetch(`${url}/state`, { signal: AbortSignal.timeout(1_000) });
    return res.ok ? await res.json() : null;
  } catch {
    return null; // the service is down: the page says so
  }
}

const url = await serve(port, {
  "GET /": () => ({ status: 200, body: page("index.html"), contentType: "text/html" }),
  "GET /app.js": () => ({ status: 200, body: page("app.js"), contentType: "text/javascript" }),
  "GET /api/catalogue": () => json(CATALOGUE),
  "POST /api/orders": ({ body }) =>
    command(async () =>
      json(await placeOrder(JSON.parse(body.toString("utf8")) as OrderRequest), 201),
    ),
  "GET /api/orders/*": async ({ path }) => {
    const orderId = path.split("/")[3] ?? "";
    const { state, version, events } = await store.load(orderId);
    if (version === 0) return json({ error: `no order ${orderId}` }, 404);
    return json({ orderId, status: state.status, version, state, events });
  },
  // …/<id>/pay from the page, …/<id>/ship from fulfillment ({ shipmentId, causationid }).
  "POST /api/orders/*": ({ path, body }) =>
    command(async () => {
      const [, , , orderId = "", action] = path.split("/");
      const at = new Date().toISOString();
      if (action === "pay") {
        // Caused by the order it pays for: the flow view nests it under OrderPlaced.
        const handled = await store.handle(orderId, { type: "pay", at }, { causationid: orderId });
        // Paid (now or before): the reminder must not go out; say whether it still could.
        return answer(handled, { reminder: await cancelPaidReminder(orderId) });
      }
      if (action === "ship") {
        const request = JSON.parse(body.toString("utf8")) as {
          shipmentId?: unknown;
          causationid?: unknown;
        };
        if (typeof request.shipmentId !== "string" || request.shipmentId === "")
          return json({ error: "ship needs a shipmentId" }, 400);
        const handled = await store.handle(
          orderId,
          { type: "ship", shipmentId: request.shipmentId, at },
          typeof request.causationid === "string" ? { causationid: request.causationid } : {},
        );
        return answer(handled);
      }
      return json({ error: `no such command: ${action}` }, 404);
    }),
  // The page's button: the history service rebuilds its projection (a demo convenience).
  "POST /api/history/rebuild": async () => {
    const historyUrl = peerUrls().history;
    if (!historyUrl) return json({ error: "history is not running" }, 503);
    const res = await fetch(`${historyUrl}/rebuild`, { method: "POST" });
    return json(await res.json(), res.status);
  },
  "GET /api/status": async () => {
    // Whose state the page shows: every other service.
    const { checkout: _self, ...services } = peerUrls();
    const names = Object.keys(services);
    const states = await Promise.all(names.map((n) => stateOf(services[n] ?? null)));
    return json({
      ...Object.fromEntries(names.map((n, i) => [n, states[i]])),
      // What the relay still has to publish (it serves no HTTP: its lag is read here).
      outbox: await store.outboxLag(),
    });
  },
});
await client.admin.subscriptions.put("checkout", {
  topic: "inventory",
  filter: onlyType("OutOfStock"),
  ordering: "key",
  ...RETRIES,
});
const subscriber = client.subscribe("checkout", handlerOf("OutOfStock", onOutOfStock), {
  concurrency: 1,
});
await subscriber.ready;
console.log(`checkout ready ${url}`);
process.on(
  "SIGTERM",
  () => void Promise.all([client.close(), pool.end()]).then(() => process.exit(0)),
);
