import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifyWebhook } from "../../client/verify-webhook.js";
import {
  batchWebhookId,
  decodeSecret,
  generateSecret,
  secretError,
  signingKeys,
  webhookHeaders,
  webhookId,
} from "./signing.js";

const nowSec = () => Math.floor(Date.now() / 1000);

describe("Standard Webhooks signing", () => {
  it("produces signatures the standardwebhooks library verifies", () => {
    const secret = generateSecret();
    const body = JSON.stringify({ hello: "wörld", n: 1 });
    const headers = webhookHeaders(signingKeys([secret]), "msg_1", nowSec(), body);
    expect(new Webhook(secret).verify(body, headers)).toEqual({ hello: "wörld", n: 1 });
  });

  it("produces signatures the SDK's verifyWebhook accepts", () => {
    const secret = generateSecret();
    const headers = webhookHeaders(signingKeys([secret]), "msg_2", nowSec(), "{}");
    expect(verifyWebhook(headers, "{}", secret).id).toBe("msg_2");
  });

  it("matches the library's own signature byte for byte", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ts = nowSec();
    const body = '{"a":1}';
    const ours = webhookHeaders(signingKeys([secret]), "msg_x", ts, body)["webhook-signature"];
    expect(ours).toBe(new Webhook(secret).sign("msg_x", new Date(ts * 1000), body));
  });

  it("signs with every secret, so each one alone verifies (rotation overlap)", () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const body = "{}";
    const headers = webhookHeaders(signingKeys([oldSecret, newSecret]), "msg_r", nowSec(), body);
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow(/No matching/);
  });

  it("signs raw bytes, not a re-encoding of them", () => {
    const secret = generateSecret();
    const body = new Uint8Array([0x7b, 0x7d]);
    const headers = webhookHeaders(signingKeys([secret]), "msg_b", nowSec(), body);
    expect(() => new Webhook(secret).verify(Buffer.from(body), headers)).not.toThrow();
    expect(() => new Webhook(secret).verify("{ }", headers)).toThrow();
  });

  it("omits the signature header without secrets but keeps id and timestamp", () => {
    expect(webhookHeaders([], "msg_n", 1700000000, "{}")).toEqual({
      "webhook-id": "msg_n",
      "webhook-timestamp": "1700000000",
    });
  });
});

describe("secrets", () => {
  it("accepts whsec_ secrets of 24 to 64 bytes and explains the rest", () => {
    expect(decodeSecret(generateSecret())?.length).toBe(32);
    expect(secretError(generateSecret())).toBeNull();
    expect(secretError("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).toBeNull();
    expect(secretError("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).toMatch(/whsec_/);
    expect(secretError("whsec_c2hvcnQ=")).toMatch(/24-64 bytes/);
    expect(secretError("whsec_not base64!!")).toMatch(/base64/);
    expect(secretError(42)).toMatch(/string/);
    expect(() => signingKeys(["nope"])).toThrow(/whsec_/);
  });
});

describe("webhook ids", () => {
  it("are stable per subscription and event, and differ across subscriptions and events", () => {
    const a = webhookId("sub-a", "/shop", "e1");
    expect(webhookId("sub-a", "/shop", "e1")).toBe(a);
    expect(webhookId("sub-b", "/shop", "e1")).not.toBe(a);
    expect(webhookId("sub-a", "/shop", "e2")).not.toBe(a);
    expect(webhookId("sub-a", "/sho", "pe1")).not.toBe(webhookId("sub-a", "/shop", "e1"));
    expect(a).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
  });

  it("of a batch depend on the subscription and its events in order", () => {
    const a = { source: "/shop", id: "a" };
    const b = { source: "/shop", id: "b" };
    const id = batchWebhookId("sub-a", [a, b]);
    expect(batchWebhookId("sub-a", [a, b])).toBe(id);
    expect(batchWebhookId("sub-a", [b, a])).not.toBe(id);
    expect(batchWebhookId("sub-b", [a, b])).not.toBe(id);
    expect(batchWebhookId("sub-a", [{ source: "/sho", id: "pa" }, b])).not.toBe(id);
    expect(id).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
  });
});
