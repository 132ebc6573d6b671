/**
 * User profiles (pulls through the SDK), the service added late: its subscription starts at
 * `earliest`, so on its first start it replays the whole `orders` log and its profiles include
 * orders placed before it existed. No export job, no call to checkout: the log is the history.
 */
import { join } from "node:path";
import { routerClient, serviceEnv } from "../lib/env.ts";
import { json, serve } from "../lib/http.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { handlerOf, onlyType, RETRIES } from "../lib/subscriptions.ts";

interface Profile {
  readonly customerId: string;
  orders: string[];
  spent: number;
}

const service = serviceEnv("profiles");
const { port, dataDir } = service;
const client = routerClient(service, "/shop/profiles");
const store = new JsonStore(join(dataDir, "profiles.json"), {
  handled: {} as Record<string, true>,
  profiles: {} as Record<string, Profile>,
});

const url = await serve(port, {
  "GET /state": () => json({ profiles: Object.values(store.state.profiles) }),
  "GET /profiles/*": ({ path }) => {
    const profile = store.state.profiles[path.split("/")[2] ?? ""];
    return profile ? json(profile) : json({ error: "no such customer" }, 404);
  },
});
// `start` applies when the subscription is created; later restarts continue where it was.
await client.admin.subscriptions.put("profiles", {
  topic: "orders",
  filter: onlyType("OrderPlaced"),
  start: "earliest",
  ordering: "key",
  ...RETRIES,
});
const subscriber = client.subscribe(
  "profiles",
  handlerOf("OrderPlaced", (delivery) => {
    const key = eventKey(delivery.event);
    if (store.state.handled[key]) return;
    const { customerId, orderId, total } = delivery.event.data;
    store.update((s) => {
      s.handled[key] = true;
      const profile = s.profiles[customerId] ?? { customerId, orders: [], spent: 0 };
      s.profiles[customerId] = profile;
      profile.orders.push(orderId);
      profile.spent += total;
    });
  }),
  { concurrency: 1 },
);
await subscriber.ready;
console.log(`profiles ready ${url}`);
process.on("SIGTERM", () => void client.close().then(() => process.exit(0)));
