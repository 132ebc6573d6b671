/**
 * Inventory (pulls through the SDK): reserves stock for every `OrderPlaced` and answers with
 * `StockReserved`, or `OutOfStock` when any line cannot be covered (nothing is reserved then).
 * The outcome is recorded with the new stock in one write; on a redelivery the recorded
 * outcome is published again with the same event id, which the router dedupes — so a crash
 * between "reserved" and "published" loses nothing and reserves nothing twice.
 */
import { join } from "node:path";
import type { Delivery } from "switchyard/client";
import { routerClient, serviceEnv } from "../lib/env.ts";
import {
  type EventMap,
  INITIAL_STOCK,
  type OrderPlaced,
  type OutOfStock,
  type StockReserved,
} from "../lib/events.ts";
import { json, serve } from "../lib/http.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { handlerOf, onlyType, RETRIES } from "../lib/subscriptions.ts";

interface Decided {
  readonly orderId: string;
  readonly correlationid: string;
}

/** What was decided for one order: the event to publish, its type paired with its data. */
type Outcome =
  | (Decided & { readonly type: "StockReserved"; readonly data: StockReserved })
  | (Decided & { readonly type: "OutOfStock"; readonly data: OutOfStock });

const service = serviceEnv("inventory");
const { port, dataDir } = service;
const client = routerClient(service, "/shop/inventory");
const store = new JsonStore(join(dataDir, "inventory.json"), {
  stock: { ...INITIAL_STOCK } as Record<string, number>,
  outcomes: {} as Record<string, Outcome>,
});

function decide(order: OrderPlaced, correlationid: string): Outcome {
  const [first, ...more] = order.lines
    .filter((l) => (store.state.stock[l.sku] ?? 0) < l.qty)
    .map((l) => l.sku);
  if (first !== undefined) {
    const data: OutOfStock = {
      orderId: order.orderId,
      customerId: order.customerId,
      email: order.email,
      skus: [first, ...more],
    };
    return { type: "OutOfStock", orderId: order.orderId, correlationid, data };
  }
  const data: StockReserved = {
    orderId: order.orderId,
    customerId: order.customerId,
    lines: order.lines,
  };
  return { type: "StockReserved", orderId: order.orderId, correlationid, data };
}

async function handle(delivery: Delivery<OrderPlaced, EventMap>): Promise<void> {
  const key = eventKey(delivery.event);
  let outcome = store.state.outcomes[key];
  if (!outcome) {
    const decided = decide(delivery.event.data, String(delivery.event.correlationid));
    store.update((s) => {
      if (decided.type === "StockReserved") {
        for (const l of delivery.event.data.lines) s.stock[l.sku] = (s.stock[l.sku] ?? 0) - l.qty;
      }
      s.outcomes[key] = decided;
    });
    outcome = decided;
  }
  // causationid = the OrderPlaced's id and its correlationid are added by delivery.publish.
  // Outcome pairs each type with its data, so the typed publish takes either.
  await delivery.publish("inventory", {
    type: outcome.type,
    id: `${outcome.type}-${delivery.event.id}`,
    partitionkey: delivery.event.data.customerId,
    data: outcome.data,
  });
}

const url = await serve(port, {
  "GET /state": () =>
    json({ stock: store.state.stock, outcomes: Object.values(store.state.outcomes) }),
});
await client.admin.subscriptions.put("inventory", {
  topic: "orders",
  filter: onlyType("OrderPlaced"),
  ordering: "key",
  ...RETRIES,
});
const subscriber = client.subscribe("inventory", handlerOf("OrderPlaced", handle), {
  concurrency: 1,
});
await subscriber.ready;
console.log(`inventory ready ${url}`);
process.on("SIGTERM", () => void client.close().then(() => process.exit(0)));
