/**
 * Email (webhooks): a receipt for every `OrderPlaced`, an apology for every `OutOfStock`
 * (the compensation is an event too), and a payment reminder for every `PaymentReminderDue`
 * — a scheduled event checkout wrote with the order, which the router appends some seconds
 * later unless checkout cancelled it because the order was paid or cancelled first. "Sending" appends to `mail.log`.
 * Idempotent by event id: the handled-ids set is written together with the outbox, so a
 * redelivered event — or one delivered again after a restart — sends nothing twice.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { StoredEventOf } from "switchyard/client";
import { routerClient, serviceEnv } from "../lib/env.ts";
import { json, serve } from "../lib/http.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { registerWebhook, type Webhook, webhookRoute, webhookSecret } from "../lib/webhook.ts";

interface Mail {
  readonly kind: "receipt" | "out-of-stock" | "reminder";
  readonly to: string;
  readonly subject: string;
  readonly orderId: string;
  readonly correlationid: string;
  readonly eventId: string;
}

const service = serviceEnv("email");
const { port, dataDir } = service;
const client = routerClient(service, "/shop/email");
const store = new JsonStore(join(dataDir, "email.json"), {
  handled: {} as Record<string, true>,
  sent: [] as Mail[],
});

function send(event: StoredEventOf<unknown>, mail: Omit<Mail, "correlationid" | "eventId">): void {
  const key = eventKey(event);
  if (store.state.handled[key]) return; // seen before: already sent
  const full: Mail = { ...mail, correlationid: String(event.correlationid), eventId: event.id };
  store.update((s) => {
    s.handled[key] = true;
    s.sent.push(full);
  });
  appendFileSync(join(dataDir, "mail.log"), `${JSON.stringify(full)}\n`);
}

const receipts: Webhook<"OrderPlaced"> = {
  subscription: "email-receipts",
  topic: "orders",
  type: "OrderPlaced",
  path: "/webhooks/orders",
  handle: (event) => {
    const o = event.data;
    send(event, {
      kind: "receipt",
      to: o.email,
      subject: `Receipt for ${o.orderId}: ${o.lines.length} line(s), total $${o.total}${o.couponCode ? ` with coupon ${o.couponCode}` : ""}`,
      orderId: o.orderId,
    });
  },
};

const apologies: Webhook<"OutOfStock"> = {
  subscription: "email-out-of-stock",
  topic: "inventory",
  type: "OutOfStock",
  path: "/webhooks/out-of-stock",
  handle: (event) => {
    const o = event.data;
    send(event, {
      kind: "out-of-stock",
      to: o.email,
      subject: `Sorry: ${o.skus.join(", ")} sold out, order ${o.orderId} will not ship`,
      orderId: o.orderId,
    });
  },
};

const reminders: Webhook<"PaymentReminderDue"> = {
  subscription: "email-reminders",
  topic: "reminders",
  type: "PaymentReminderDue",
  path: "/webhooks/reminders",
  handle: (event) => {
    const o = event.data;
    send(event, {
      kind: "reminder",
      to: o.email,
      subject: `Your order ${o.orderId} is waiting for payment ($${o.total})`,
      orderId: o.orderId,
    });
  },
};

const secret = webhookSecret(dataDir);
const url = await serve(port, {
  "GET /state": () => json({ sent: store.state.sent }),
  [`POST ${receipts.path}`]: webhookRoute(secret, receipts),
  [`POST ${apologies.path}`]: webhookRoute(secret, apologies),
  [`POST ${reminders.path}`]: webhookRoute(secret, reminders),
});
await registerWebhook(client, url, secret, receipts);
await registerWebhook(client, url, secret, apologies);
await registerWebhook(client, url, secret, reminders);
console.log(`email ready ${url}`);
