/**
 * Shared by the push-secret tests of both engines: the secret and header values a test sets,
 * a push subscription holding them, and checks that a webhook arrived with them.
 */
import { Webhook } from "standardwebhooks";
import { expect } from "vitest";
import type { SubscriptionConfig } from "../../src/core/config.js";
import { subscriptionConfig } from "../../src/engine/conformance/fixtures.js";
import { eventually } from "./eventually.js";
import type { HttpSink, SinkRequest } from "./http-sink.js";
import { type Api, event } from "./router.js";

/** Distinct enough that a match anywhere means a leak. */
export const SECRET = "whsec_c2VjcmV0LWJ5dGVzLW5vYm9keS1zaG91bGQtc2VlLTEyMw==";
export const SECRET_BYTES = "c2VjcmV0LWJ5dGVzLW5vYm9keS1zaG91bGQtc2VlLTEyMw";
export const HEADERS = {
  authorization: "Bearer hdr-token-4f9a1c77e2",
  "x-api-key": "apikey-b7d3e0915c",
};
/** Every string that must never show outside the push request itself. */
export const SECRET_VALUES = [SECRET, SECRET_BYTES, ...Object.values(HEADERS)];

export function pushBody(topic: string, url: string): Record<string, unknown> {
  return {
    topic,
    backoff: { initialMs: 10, maxMs: 100, multiplier: 2 },
    push: { url, headers: HEADERS, secrets: [SECRET] },
  };
}

/** The config an old router (before sealing) would have stored: values in plaintext. */
export function plaintextConfig(name: string, topic: string, url: string): SubscriptionConfig {
  return subscriptionConfig(name, topic, {
    start: "earliest",
    backoff: { initialMs: 10, maxMs: 100, multiplier: 2 },
    deadLetterTopic: `${topic}.dlq`,
    push: { url, headers: HEADERS, timeoutMs: 10_000, mode: "binary", secrets: [SECRET] },
  });
}

/** Publishes one event and waits for the sink to get it with the headers and a valid signature. */
export async function expectDelivered(http: Api, topic: string, sink: HttpSink): Promise<void> {
  const sent = event({ type: "secret.check" });
  expect((await http.publish(topic, sent)).status).toBe(201);
  const got = await eventually(
    () => {
      const found = sink.requests.find((r) => r.headers["ce-id"] === sent.id);
      if (found === undefined) throw new Error(`event ${sent.id} not pushed yet`);
      return found;
    },
    { timeoutMs: 20_000 },
  );
  expectSigned(got);
}

export function expectSigned(request: SinkRequest): void {
  expect(request.headers.authorization).toBe(HEADERS.authorization);
  expect(request.headers["x-api-key"]).toBe(HEADERS["x-api-key"]);
  const headers = request.headers as Record<string, string>;
  expect(() => new Webhook(SECRET).verify(request.text, headers)).not.toThrow();
}

/** The API's view of a push subscription holding `HEADERS` and `SECRET`. */
export async function expectWriteOnly(http: Api, name: string): Promise<void> {
  const one = await http.get(`/v1/subscriptions/${name}`);
  expect(one.status).toBe(200);
  expect(one.body.push.secretCount).toBe(1);
  expect(one.body.push.headerNames).toEqual(["authorization", "x-api-key"]);
  expect(one.body.push.headers).toBeUndefined();
  const all = await http.get("/v1/subscriptions");
  expectAbsent(`${one.text}\n${all.text}`, "API answers");
}

export function expectAbsent(text: string, where: string): void {
  for (const value of SECRET_VALUES)
    expect(text.includes(value), `${where} hold ${JSON.stringify(value)}`).toBe(false);
}
