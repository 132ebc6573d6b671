/** Usage (webhooks): counts the SMS each customer was sent, from `SmsSent`, once per event. */
import { join } from "node:path";
import { routerClient, serviceEnv } from "../lib/env.ts";
import { json, serve } from "../lib/http.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { registerWebhook, type Webhook, webhookRoute, webhookSecret } from "../lib/webhook.ts";

const service = serviceEnv("usage");
const { port, dataDir } = service;
const client = routerClient(service, "/notifications/usage");
const store = new JsonStore(join(dataDir, "usage.json"), {
  handled: {} as Record<string, true>,
  counts: {} as Record<string, number>,
  byCorrelation: {} as Record<string, string>,
});

const counting: Webhook<"SmsSent"> = {
  subscription: "usage",
  topic: "sms",
  type: "SmsSent",
  path: "/webhooks/sms",
  handle: (event) => {
    const key = eventKey(event);
    if (store.state.handled[key]) return;
    store.update((s) => {
      s.handled[key] = true;
      s.counts[event.data.customerId] = (s.counts[event.data.customerId] ?? 0) + 1;
      s.byCorrelation[String(event.correlationid)] = event.data.customerId;
    });
  },
};

const secret = webhookSecret(dataDir);
const url = await serve(port, {
  "GET /state": () =>
    json({ counts: store.state.counts, byCorrelation: store.state.byCorrelation }),
  [`POST ${counting.path}`]: webhookRoute(secret, counting),
});
await registerWebhook(client, url, secret, counting);
console.log(`usage ready ${url}`);
