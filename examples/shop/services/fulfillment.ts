/**
 * Fulfillment (webhooks): ships an order once it is both paid (`OrderPaid`, from checkout's
 * order aggregate) and reserved (`StockReserved`, from inventory), whichever comes first —
 * a small process manager whose own state is the two halves it has seen. An order that ran
 * out of stock is never reserved, so never shipped. Shipping records the shipment, tells
 * checkout (`POST /api/orders/<id>/ship`, which appends `OrderShipped` to the order) and asks
 * the notification service (plain HTTP) to text the customer. Both requests carry ids, so
 * asking twice ships and texts once.
 */
import { join } from "node:path";
import { routerClient, serviceEnv } from "../lib/env.ts";
import type { StockReserved } from "../lib/events.ts";
import { json, serve } from "../lib/http.ts";
import { peerUrl } from "../lib/peers.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { registerWebhook, type Webhook, webhookRoute, webhookSecret } from "../lib/webhook.ts";

interface Reserved extends StockReserved {
  readonly correlationid: string;
  /** The StockReserved event: the cause of the shipment and of the SMS request. */
  readonly causationid: string;
}

interface Shipment {
  readonly shipmentId: string;
  readonly orderId: string;
  readonly customerId: string;
  readonly correlationid: string;
  /** The StockReserved event this shipment answers: the cause of the SMS request. */
  readonly causationid: string;
  readonly items: number;
}

const service = serviceEnv("fulfillment");
const { port, dataDir } = service;
const client = routerClient(service, "/shop/fulfillment");
interface State {
  /** Event keys recorded: a redelivery records nothing twice. */
  handled: Record<string, true>;
  reserved: Record<string, Reserved>;
  paid: Record<string, true>;
  shipments: Record<string, Shipment>;
}
const store = new JsonStore<State>(join(dataDir, "fulfillment.json"), {
  handled: {},
  reserved: {},
  paid: {},
  shipments: {},
});

/** Ships the order if both halves are in; again (same ids) if a request failed last time. */
async function shipIfReady(orderId: string): Promise<void> {
  const reserved = store.state.reserved[orderId];
  if (reserved === undefined || !store.state.paid[orderId]) return;
  let shipment = store.state.shipments[orderId];
  if (!shipment) {
    const created: Shipment = {
      shipmentId: `ship-${orderId}`,
      orderId,
      customerId: reserved.customerId,
      correlationid: reserved.correlationid,
      causationid: reserved.causationid,
      items: reserved.lines.reduce((n, l) => n + l.qty, 0),
    };
    store.update((s) => {
      s.shipments[orderId] = created;
    });
    shipment = created;
  }
  await tellCheckout(shipment);
  await requestSms(shipment);
}

async function tellCheckout(shipment: Shipment): Promise<void> {
  const checkoutUrl = peerUrl("checkout");
  if (checkoutUrl === undefined) return;
  const res = await fetch(`${checkoutUrl}/api/orders/${shipment.orderId}/ship`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ shipmentId: shipment.shipmentId, causationid: shipment.causationid }),
  });
  // Not recorded: throw, answer 500, and the router redelivers the event later.
  if (res.status !== 200) throw new Error(`checkout answered ${res.status} to ship`);
}

async function requestSms(shipment: Shipment): Promise<void> {
  const notifyUrl = peerUrl("notifications");
  if (notifyUrl === undefined) return;
  const res = await fetch(`${notifyUrl}/notify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      requestId: `shipped-${shipment.orderId}`,
      customerId: shipment.customerId,
      text: `Your order ${shipment.orderId} has shipped (${shipment.shipmentId}).`,
      correlationid: shipment.correlationid,
      causationid: shipment.causationid,
    }),
  });
  // Not accepted: throw, answer 500, and the router redelivers StockReserved later.
  if (res.status !== 202) throw new Error(`notification service answered ${res.status}`);
}

/** Records one half the first time its event arrives (by event id), then ships if ready. */
async function record(key: string, orderId: string, change: (s: State) => void): Promise<void> {
  if (!store.state.handled[key]) {
    store.update((s) => {
      s.handled[key] = true;
      change(s);
    });
  }
  await shipIfReady(orderId);
}

const reservations: Webhook<"StockReserved"> = {
  subscription: "fulfillment",
  topic: "inventory",
  type: "StockReserved",
  path: "/webhooks/stock-reserved",
  handle: (event) =>
    record(eventKey(event), event.data.orderId, (s) => {
      s.reserved[event.data.orderId] = {
        ...event.data,
        correlationid: String(event.correlationid),
        causationid: event.id,
      };
    }),
};

const payments: Webhook<"OrderPaid"> = {
  subscription: "fulfillment-paid",
  topic: "orders",
  type: "OrderPaid",
  path: "/webhooks/order-paid",
  handle: (event) =>
    record(eventKey(event), event.data.orderId, (s) => {
      s.paid[event.data.orderId] = true;
    }),
};

const secret = webhookSecret(dataDir);
const url = await serve(port, {
  "GET /state": () => json({ shipments: Object.values(store.state.shipments) }),
  [`POST ${reservations.path}`]: webhookRoute(secret, reservations),
  [`POST ${payments.path}`]: webhookRoute(secret, payments),
});
await registerWebhook(client, url, secret, reservations);
await registerWebhook(client, url, secret, payments);
console.log(`fulfillment ready ${url}`);
