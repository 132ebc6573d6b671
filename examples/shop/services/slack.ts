/**
 * Slack notifier (webhooks), added while the shop runs: a new subscription on `orders`
 * (starting at `latest`, it announces new orders only), no change to checkout. It "posts" to
 * a local stand-in channel: `GET /` shows it, `channel.log` keeps it.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { routerClient, serviceEnv } from "../lib/env.ts";
import { json, serve } from "../lib/http.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { registerWebhook, type Webhook, webhookRoute, webhookSecret } from "../lib/webhook.ts";

interface Post {
  readonly text: string;
  readonly orderId: string;
  readonly correlationid: string;
}

const service = serviceEnv("slack");
const { port, dataDir } = service;
const client = routerClient(service, "/shop/slack");
const store = new JsonStore(join(dataDir, "slack.json"), {
  handled: {} as Record<string, true>,
  posts: [] as Post[],
});

const announce: Webhook<"OrderPlaced"> = {
  subscription: "slack",
  topic: "orders",
  type: "OrderPlaced",
  path: "/webhooks/orders",
  handle: (event) => {
    const key = eventKey(event);
    if (store.state.handled[key]) return;
    const o = event.data;
    const post: Post = {
      text: `#sales: ${o.customerId} ordered ${o.lines.map((l) => `${l.qty}× ${l.name}`).join(", ")} ($${o.total})`,
      orderId: o.orderId,
      correlationid: String(event.correlationid),
    };
    store.update((s) => {
      s.handled[key] = true;
      s.posts.push(post);
    });
    appendFileSync(join(dataDir, "channel.log"), `${post.text}\n`);
  },
};

const escapeHtml = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
const secret = webhookSecret(dataDir);
const url = await serve(port, {
  "GET /": () => ({
    status: 200,
    contentType: "text/html",
    body: `<h1>#sales (stand-in)</h1><ul>${store.state.posts.map((p) => `<li>${escapeHtml(p.text)}</li>`).join("")}</ul>`,
  }),
  "GET /state": () => json({ posts: store.state.posts }),
  [`POST ${announce.path}`]: webhookRoute(secret, announce),
});
await registerWebhook(client, url, secret, announce);
console.log(`slack ready ${url}`);
