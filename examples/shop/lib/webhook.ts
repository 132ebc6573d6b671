/**
 * The push side: Switchyard POSTs each event to the service (a webhook), signed with the
 * subscription's `whsec_` secret. The service verifies the signature on the raw body, handles
 * the event and answers 204; any other answer (or none) makes the router retry later.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  type Filter,
  type StoredEventOf,
  type SwitchyardClient,
  verifyWebhook,
} from "switchyard/client";
import { json, type Route } from "./http.ts";
import { JsonStore } from "./store.ts";
import { RETRIES } from "./subscriptions.ts";

export interface Webhook<T> {
  readonly subscription: string;
  readonly topic: string;
  /** Where the router POSTs, e.g. "/webhooks/orders". */
  readonly path: string;
  readonly filter?: Filter;
  readonly start?: "earliest" | "latest";
  /** Throwing makes the answer 500: the router retries with backoff. */
  readonly handle: (event: StoredEventOf<T>) => void | Promise<void>;
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
export function webhookRoute<T>(secret: string, webhook: Webhook<T>): Route {
  return async ({ headers, body }) => {
    try {
      verifyWebhook(headers, body, secret);
    } catch {
      return json({ error: "invalid signature" }, 401);
    }
    // Structured mode: the body is the whole stored event, correlation ids included.
    await webhook.handle(JSON.parse(body.toString("utf8")) as StoredEventOf<T>);
    return { status: 204 };
  };
}

/** Creates (or updates) the push subscription that points at this service. */
export async function registerWebhook<T>(
  client: SwitchyardClient,
  baseUrl: string,
  secret: string,
  webhook: Webhook<T>,
): Promise<void> {
  await client.admin.subscriptions.put(webhook.subscription, {
    topic: webhook.topic,
    start: webhook.start ?? "latest",
    ...(webhook.filter ? { filter: webhook.filter } : {}),
    ...RETRIES,
    push: { url: `${baseUrl}${webhook.path}`, mode: "structured", secrets: [secret] },
  });
}
