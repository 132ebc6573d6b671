/**
 * Checkout: serves the storefront and publishes `OrderPlaced`. It knows nothing about who
 * listens — email, inventory, history, Slack and profiles all subscribe on their own — so
 * adding a consumer never changes this file. `GET /api/status` gathers every service's
 * state for the page (a convenience for the demo, not part of the event flow).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { SwitchyardClientError } from "switchyard/client";
import { routerClient, serviceEnv } from "../lib/env.ts";
import { CATALOGUE, COUPONS, type OrderLine, type OrderPlaced } from "../lib/events.ts";
import { json, serve } from "../lib/http.ts";
import { peerUrls } from "../lib/peers.ts";

const service = serviceEnv("checkout");
const { port } = service;
const client = routerClient(service, "/shop/checkout");
const page = (file: string) => readFileSync(new URL(`../public/${file}`, import.meta.url), "utf8");

interface OrderRequest {
  readonly customerId?: unknown;
  readonly lines?: unknown;
  readonly couponCode?: unknown;
}

/** An order the shop itself refuses (400), before anything is published. */
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
  const order: OrderPlaced = {
    orderId,
    customerId,
    email: `${customerId}@example.com`,
    lines,
    total: Math.round(subtotal * (100 - percentOff)) / 100,
    placedAt: new Date().toISOString(),
    // Optional since OrderPlaced version 2: left out when there is no coupon, so an order
    // without one is valid under version 1 too.
    ...(couponCode === undefined ? {} : { couponCode }),
  };
  // The order id is the event id (a retried publish dedupes) and the correlation id that
  // every event caused by this order carries on. One customer's orders stay in order.
  await client.publish("orders", {
    type: "OrderPlaced",
    id: orderId,
    correlationid: orderId,
    partitionkey: customerId,
    data: order,
  });
  return order;
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
  "POST /api/orders": async ({ body }) => {
    try {
      return json(await placeOrder(JSON.parse(body.toString("utf8")) as OrderRequest), 201);
    } catch (error) {
      // The router refused the event (e.g. 422 schema_violation): its code and pointers.
      if (error instanceof SwitchyardClientError) {
        return json({ error: error.message, code: error.code, errors: error.errors }, 502);
      }
      return json({ error: error instanceof Error ? error.message : String(error) }, 400);
    }
  },
  "GET /api/status": async () => {
    const services = peerUrls(); // whose state the page shows
    const names = Object.keys(services);
    const states = await Promise.all(names.map((n) => stateOf(services[n] ?? null)));
    return json(Object.fromEntries(names.map((n, i) => [n, states[i]])));
  },
});
console.log(`checkout ready ${url}`);
