/**
 * SMS (pulls through the SDK): texts every `NotificationRequested` through a provider that
 * fails now and then. A failure just throws: the SDK nacks, the router redelivers after a
 * backoff — the retry loop is Switchyard's, not ours. After a send it publishes `SmsSent`
 * (same id on a redelivery: deduped) for the usage service. A customer with no phone number
 * cannot be retried into success: that request is rejected straight to the dead-letter topic,
 * to be redriven (`switchyard dlq redrive sms`) once `POST /phones` has added the number.
 */
import { join } from "node:path";
import { Reject } from "switchyard/client";
import { env, routerClient, serviceEnv } from "../lib/env.ts";
import { json, serve } from "../lib/http.ts";
import { eventKey, JsonStore } from "../lib/store.ts";
import { handlerOf, onlyType, RETRIES } from "../lib/subscriptions.ts";
import { fakeSmsProvider } from "./sms-provider.ts";

interface Sent {
  readonly requestId: string;
  readonly customerId: string;
  readonly correlationid: string;
  /** Which delivery attempt got through (1 = first try). */
  readonly attempt: number;
}

const service = serviceEnv("sms");
const { port, dataDir } = service;
const client = routerClient(service, "/notifications/sms");
const store = new JsonStore(join(dataDir, "sms.json"), {
  sent: {} as Record<string, Sent>,
  failures: 0,
  phones: {
    alice: "+1-555-0101",
    bob: "+1-555-0102",
    carol: "+1-555-0103",
    dave: "+1-555-0104",
  } as Record<string, string>,
});
const provider = fakeSmsProvider(
  join(dataDir, "sms.log"),
  Number(env("SMS_SEED", "42")),
  Number(env("SMS_FAILURE_RATE", "0.3")),
);

const url = await serve(port, {
  "GET /state": () =>
    json({ sent: Object.values(store.state.sent), failures: store.state.failures }),
  "POST /phones": ({ body }) => {
    const { customerId, phone } = JSON.parse(body.toString("utf8")) as Record<string, string>;
    if (!customerId || !phone) return json({ error: "customerId and phone are required" }, 400);
    store.update((s) => {
      s.phones[customerId] = phone;
    });
    return json({ customerId, phone });
  },
});
await client.admin.subscriptions.put("sms", {
  topic: "notifications",
  filter: onlyType("NotificationRequested"),
  ordering: "key",
  ...RETRIES,
});
const subscriber = client.subscribe(
  "sms",
  handlerOf("NotificationRequested", async (delivery) => {
    const key = eventKey(delivery.event);
    const { requestId, customerId, text } = delivery.event.data;
    if (!store.state.sent[key]) {
      const phone = store.state.phones[customerId];
      if (!phone) throw new Reject(`no phone number for customer ${customerId}`);
      try {
        provider.send(key, phone, text);
      } catch (error) {
        store.update((s) => {
          s.failures += 1;
        });
        throw error; // nack: the router retries after the subscription's backoff
      }
      const sent: Sent = {
        requestId,
        customerId,
        correlationid: String(delivery.event.correlationid),
        attempt: delivery.attempt,
      };
      store.update((s) => {
        s.sent[key] = sent;
      });
    }
    await delivery.publish("sms", {
      type: "SmsSent",
      id: `sms-${delivery.event.id}`,
      partitionkey: customerId,
      data: { requestId, customerId },
    });
  }),
  { concurrency: 1, onHandlerError: () => {} },
);
await subscriber.ready;
console.log(`sms ready ${url}`);
process.on("SIGTERM", () => void client.close().then(() => process.exit(0)));
