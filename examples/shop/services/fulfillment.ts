/**
 * Fulfillment (webhooks): ships what inventory reserved — it listens to `StockReserved`,
 * never to `OrderPlaced`, so an order that ran out of stock is never shipped. After
 * recording the shipment it asks the notification service (plain HTTP) to text the customer;
 * that request carries an id, so asking twice sends one SMS.
 */
import { join } from "node:path";
import { routerClient, serviceEnv } from "../lib/env.ts";
import { json, serve } from "../lib/http.ts";
import { peerUrl } from "../lib/peers.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { registerWebhook, type Webhook, webhookRoute, webhookSecret } from "../lib/webhook.ts";

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
const store = new JsonStore(join(dataDir, "fulfillment.json"), {
  shipments: {} as Record<string, Shipment>,
});

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

const shipping: Webhook<"StockReserved"> = {
  subscription: "fulfillment",
  topic: "inventory",
  type: "StockReserved",
  path: "/webhooks/stock-reserved",
  handle: async (event) => {
    const key = eventKey(event);
    let shipment = store.state.shipments[key];
    if (!shipment) {
      const created: Shipment = {
        shipmentId: `ship-${event.data.orderId}`,
        orderId: event.data.orderId,
        customerId: event.data.customerId,
        correlationid: String(event.correlationid),
        causationid: event.id,
        items: event.data.lines.reduce((n, l) => n + l.qty, 0),
      };
      store.update((s) => {
        s.shipments[key] = created;
      });
      shipment = created;
    }
    await requestSms(shipment);
  },
};

const secret = webhookSecret(dataDir);
const url = await serve(port, {
  "GET /state": () => json({ shipments: Object.values(store.state.shipments) }),
  [`POST ${shipping.path}`]: webhookRoute(secret, shipping),
});
await registerWebhook(client, url, secret, shipping);
console.log(`fulfillment ready ${url}`);
