/**
 * Order history (pulls through the SDK): every customer's orders and the company's, built
 * from `OrderPlaced` alone (the event carries the lines and totals). Queryable:
 * `GET /orders` (the company), `GET /customers/<id>/orders` (one customer).
 */
import { join } from "node:path";
import { routerClient, serviceEnv } from "../lib/env.ts";
import type { OrderPlaced } from "../lib/events.ts";
import { json, serve } from "../lib/http.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { handlerOf, onlyType, RETRIES } from "../lib/subscriptions.ts";

interface Entry extends OrderPlaced {
  readonly correlationid: string;
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
  filter: onlyType("OrderPlaced"),
  ordering: "key",
  ...RETRIES,
});
const subscriber = client.subscribe(
  "history",
  handlerOf("OrderPlaced", (delivery) => {
    const key = eventKey(delivery.event);
    if (store.state.handled[key]) return; // a redelivery: already recorded
    store.update((s) => {
      s.handled[key] = true;
      s.orders.push({
        ...delivery.event.data,
        correlationid: String(delivery.event.correlationid),
      });
    });
  }),
  { concurrency: 1 },
);
await subscriber.ready;
console.log(`history ready ${url}`);
process.on("SIGTERM", () => void client.close().then(() => process.exit(0)));
