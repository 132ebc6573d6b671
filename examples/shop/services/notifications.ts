/**
 * Notification service (seed 000): `POST /notify` accepts a request, publishes
 * `NotificationRequested` and answers 202 at once — it never waits for the SMS to go out.
 * Once the router has the event it is durable: if the SMS service is down, the request waits
 * in its subscription and is sent when it is back. The request id is the event id, so a
 * caller that retries its request does not cause a second SMS.
 */
import { routerClient, serviceEnv } from "../lib/env.ts";
import type { NotificationRequested } from "../lib/events.ts";
import { json, serve } from "../lib/http.ts";

const service = serviceEnv("notifications");
const { port } = service;
const client = routerClient(service, "/notifications");
let accepted = 0;

const url = await serve(port, {
  "GET /state": () => json({ accepted }),
  "POST /notify": async ({ body }) => {
    const request = JSON.parse(body.toString("utf8")) as Partial<NotificationRequested> & {
      correlationid?: string;
      causationid?: string;
    };
    const { requestId, customerId, text } = request;
    if (!requestId || !customerId || !text) {
      return json({ error: "requestId, customerId and text are required" }, 400);
    }
    const result = await client.publish("notifications", {
      type: "NotificationRequested",
      id: requestId,
      partitionkey: customerId,
      correlationid: request.correlationid ?? requestId,
      // Over HTTP the caller passes the ids on itself (the SDK does it for handlers).
      ...(request.causationid ? { causationid: request.causationid } : {}),
      data: { requestId, customerId, text },
    });
    if (!result.duplicate) accepted += 1;
    return json({ requestId, offset: result.offset }, 202);
  },
});
console.log(`notifications ready ${url}`);
