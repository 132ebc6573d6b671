/**
 * Order history (pulls through the SDK): a read model of every order — its lines, total and
 * where it is in its life (placed, paid, shipped, cancelled) — built from the order's events
 * alone (the events carry what it shows). Queryable: `GET /orders` (the company),
 * `GET /customers/<id>/orders` (one customer).
 */
import { join } from "node:path";
import type { DeliveryOf } from "switchyard/client";
import { routerClient, serviceEnv } from "../lib/env.ts";
import type { EventMap, OrderPlaced } from "../lib/events.ts";
import { json, serve } from "../lib/http.ts";
import type { OrderStatus } from "../lib/order.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { onlyTypes, RETRIES } from "../lib/subscriptions.ts";

interface Entry extends OrderPlaced {
  readonly correlationid: string;
  status: OrderStatus;
  paidAt?: string;
  shippedAt?: string;
  cancelledAt?: string;
}

const service = serviceEnv("history");
const { port, dataDir } = service;
const client = routerClient(service, "/shop/history");
const store = new JsonStore(join(dataDir, "history.json"), {
  handled: {} as Record<string, true>,
  orders: [] as Entry[],
});

const url = await serve(port, {
  "GET /state": () => json({ orders: store.state.orders }),
  "GET /orders": () => json(store.state.orders),
  "GET /customers/*": ({ path }) => {
    const customerId = path.split("/")[2] ?? "";
    return json(store.state.orders.filter((o) => o.customerId === customerId));
  },
});
await client.admin.subscriptions.put("history", {
  topic: "orders",
  filter: onlyTypes(["OrderPlaced", "OrderPaid", "OrderShipped", "OrderCancelled"]),
  ordering: "key",
  ...RETRIES,
});
const subscriber = client.subscribe(
  "history",
  (delivery: DeliveryOf<EventMap>) => {
    const { event } = delivery;
    const key = eventKey(event);
    if (store.state.handled[key]) return; // a redelivery: already recorded
    store.update((s) => {
      s.handled[key] = true;
      const entry = (orderId: string) => s.orders.find((o) => o.orderId === orderId);
      switch (event.type) {
        case "OrderPlaced":
          s.orders.push({
            ...event.data,
            correlationid: String(event.correlationid),
            status: "placed",
          });
          break;
        case "OrderPaid": {
          const o = entry(event.data.orderId);
          if (o) Object.assign(o, { status: "paid", paidAt: event.data.paidAt });
          break;
        }
        case "OrderShipped": {
          const o = entry(event.data.orderId);
          if (o) Object.assign(o, { status: "shipped", shippedAt: event.data.shippedAt });
          break;
        }
        case "OrderCancelled": {
          const o = entry(event.data.orderId);
          if (o) Object.assign(o, { status: "cancelled", cancelledAt: event.data.cancelledAt });
          break;
        }
      }
    });
  },
  { concurrency: 1 },
);
await subscriber.ready;
console.log(`history ready ${url}`);
process.on("SIGTERM", () => void client.close().then(() => process.exit(0)));
