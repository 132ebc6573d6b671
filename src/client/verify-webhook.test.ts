import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifyWebhook } from "./verify-webhook.js";

const secret = () => `whsec_${randomBytes(32).toString("base64")}`;

function signed(key: string, body: string, at = new Date(), id = "msg_abc") {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(key).sign(id, at, body),
  };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? "no code";
  }
  return "accepted";
}

describe("verifyWebhook", () => {
  it("accepts signatures made by the standardwebhooks library", () => {
    const key = secret();
    const body = '{"type":"order.created"}';
    const at = new Date();
    expect(verifyWebhook(signed(key, body, at), body, key)).toEqual({
      id: "msg_abc",
      timestamp: Math.floor(at.getTime() / 1000),
    });
    expect(verifyWebhook(signed(key, body), Buffer.from(body), key).id).toBe("msg_abc");
  });

  it("rejects a changed body, id or timestamp, and a wrong secret", () => {
    const key = secret();
    const headers = signed(key, "{}");
    expect(code(() => verifyWebhook(headers, "{ }", key))).toBe("invalid_signature");
    expect(code(() => verifyWebhook({ ...headers, "webhook-id": "msg_x" }, "{}", key))).toBe(
      "invalid_signature",
    );
    const later = String(Number(headers["webhook-timestamp"]) + 1);
    expect(code(() => verifyWebhook({ ...headers, "webhook-timestamp": later }, "{}", key))).toBe(
      "invalid_signature",
    );
    expect(code(() => verifyWebhook(headers, "{}", secret()))).toBe("invalid_signature");
  });

  it("enforces a five-minute timestamp tolerance both ways", () => {
    const key = secret();
    const now = Date.now();
    const old = signed(key, "{}", new Date(now - 6 * 60_000));
    const future = signed(key, "{}", new Date(now + 6 * 60_000));
    const edge = signed(key, "{}", new Date(now - 4 * 60_000));
    expect(code(() => verifyWebhook(old, "{}", key, { now }))).toBe("invalid_signature");
    expect(code(() => verifyWebhook(future, "{}", key, { now }))).toBe("invalid_signature");
    expect(code(() => verifyWebhook(edge, "{}", key, { now }))).toBe("accepted");
    expect(code(() => verifyWebhook(old, "{}", key, { now, toleranceSec: 600 }))).toBe("accepted");
  });

  it("accepts any of several secrets and any of several signatures (rotation)", () => {
    const [oldKey, newKey] = [secret(), secret()];
    const body = "{}";
    const at = new Date();
    const both = {
      ...signed(newKey, body, at),
      "webhook-signature": `${new Webhook(oldKey).sign("msg_abc", at, body)} ${new Webhook(newKey).sign("msg_abc", at, body)}`,
    };
    expect(code(() => verifyWebhook(both, body, oldKey))).toBe("accepted");
    expect(code(() => verifyWebhook(both, body, newKey))).toBe("accepted");
    expect(code(() => verifyWebhook(signed(newKey, body), body, [oldKey, newKey]))).toBe(
      "accepted",
    );
    expect(code(() => verifyWebhook(signed(secret(), body), body, [oldKey, newKey]))).toBe(
      "invalid_signature",
    );
  });

  it("reads fetch Headers and Node's header objects, in any case", () => {
    const key = secret();
    const plain = signed(key, "{}");
    expect(code(() => verifyWebhook(new Headers(plain), "{}", key))).toBe("accepted");
    const upper = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k.toUpperCase(), [v]]));
    expect(code(() => verifyWebhook(upper, "{}", key))).toBe("accepted");
  });

  it("requires all three headers and ignores unknown signature versions", () => {
    const key = secret();
    const headers = signed(key, "{}");
    const { "webhook-signature": _, ...unsigned } = headers;
    expect(code(() => verifyWebhook(unsigned, "{}", key))).toBe("invalid_signature");
    const v2 = {
      ...headers,
      "webhook-signature": headers["webhook-signature"].replace("v1,", "v2,"),
    };
    expect(code(() => verifyWebhook(v2, "{}", key))).toBe("invalid_signature");
    expect(code(() => verifyWebhook({ ...headers, "webhook-timestamp": "soon" }, "{}", key))).toBe(
      "invalid_signature",
    );
  });
});
