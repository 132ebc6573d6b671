/**
 * The push side: Switchyard POSTs each event to the service (a webhook), signed with the
 * subscription's `whsec_` secret. The service verifies the signature on the raw body, handles
 * the event and answers 204; any other answer (or none) makes the router retry later.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type Admin, type StoredEventOf, verifyWebhook } from "switchyard/client";
import type { EventMap } from "./events.ts";
import { json, type Route } from "./http.ts";
import { JsonStore } from "./store.ts";
import { type EventType, onlyType, RETRIES } from "./subscriptions.ts";

/** A push subscription that takes one event type (its filter), and the handler of its events. */
export interface Webhook<K extends EventType> {
  readonly subscription: string;
  readonly topic: string;
  readonly type: K;
  /** Where the router POSTs, e.g. "/webhooks/orders". */
  readonly path: string;
  readonly start?: "earliest" | "latest";
  /** Throwing makes the answer 500: the router retries with backoff. */
  readonly handle: (event: StoredEventOf<EventMap[K]>) => void | Promise<void>;
}

/** This service's signing secret, made once and kept in its data directory. */
export function webhookSecret(dataDir: string): string {
  const store = new JsonStore(join(dataDir, "webhook-secret.json"), { secret: "" });
  if (!store.state.secret) {
    store.update((s) => {
      s.secret = `whsec_${randomBytes(24).toString("base64")}`;
    });
  }
  return store.state.secret;
}

/** The HTTP route that receives the webhook: 401 on a bad signature, 204 once handled. */
export function webhookRoute<K extends EventType>(secret: string, webhook: Webhook<K>): Route {
  return async ({ headers, body }) => {
    try {
      verifyWebhook(headers, body, secret);
    } catch {
      return json({ error: "invalid signature" }, 401);
    }
    // Structured mode: the body is the whole stored event, correlation ids included. The
    // filter keeps other types out; one that still arrives is refused, never misread.
    const event = JSON.parse(body.toString("utf8")) as StoredEventOf<EventMap[K]>;
    if (event.type !== webhook.type) {
      return json({ error: `${webhook.subscription} takes ${webhook.type}` }, 422);
    }
    await webhook.handle(event);
    return { status: 204 };
  };
}

/** Creates (or updates) the push subscription that points at this service. */
export async function registerWebhook<K extends EventType>(
  client: { readonly admin: Admin },
  baseUrl: string,
  secret: string,
  webhook: Webhook<K>,
): Promise<void> {
  await client.admin.subscriptions.put(webhook.subscription, {
    topic: webhook.topic,
    start: webhook.start ?? "latest",
    filter: onlyType(webhook.type),
    ...RETRIES,
    push: { url: `${baseUrl}${webhook.path}`, mode: "structured", secrets: [secret] },
  });
}
