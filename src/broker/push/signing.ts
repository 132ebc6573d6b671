import { createHash, createHmac, createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { SwitchyardError } from "../../core/errors.js";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): every secret of the
 * subscription signs `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256, so during a
 * rotation old and new secrets overlap and receivers accept either.
 */

const SECRET_PREFIX = "whsec_";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** The spec asks for 24 to 64 bytes of key material. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

/** The key bytes of a `whsec_` secret, or null when the string is not a usable secret. */
export function decodeSecret(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) return null;
  const key = Buffer.from(encoded, "base64");
  return key.length >= MIN_KEY_BYTES && key.length <= MAX_KEY_BYTES ? key : null;
}

/** Why a secret is unusable, or null when it is fine (for config validation messages). */
export function secretError(secret: unknown): string | null {
  if (typeof secret !== "string") return "must be a string";
  if (!secret.startsWith(SECRET_PREFIX)) return `must start with "${SECRET_PREFIX}"`;
  if (decodeSecret(secret) === null)
    return `must be "${SECRET_PREFIX}" followed by ${MIN_KEY_BYTES}-${MAX_KEY_BYTES} bytes of base64`;
  return null;
}

/** A fresh random secret in the `whsec_` form. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

/**
 * Decodes every secret once, into a KeyObject: `createHmac` given raw bytes builds a KeyObject
 * of them on every call, which costs several times the HMAC itself on a short body.
 */
export function signingKeys(secrets: readonly string[]): readonly KeyObject[] {
  return secrets.map((secret) => {
    const key = decodeSecret(secret);
    if (key === null)
      throw new SwitchyardError("invalid_request", "a push secret is not a whsec_ secret");
    return createSecretKey(key);
  });
}

/** `v1,<base64>` for each key, space-separated: the `webhook-signature` header value. */
export function signatureHeader(
  keys: readonly KeyObject[],
  id: string,
  timestampSec: number,
  body: string | Uint8Array,
): string {
  const prefix = `${id}.${timestampSec}.`;
  return keys
    .map((key) => `v1,${createHmac("sha256", key).update(prefix).update(body).digest("base64")}`)
    .join(" ");
}

/**
 * The three Standard Webhooks headers for one request. Without keys there is no
 * `webhook-signature`: the id and timestamp still let receivers dedupe and order.
 */
export function webhookHeaders(
  keys: readonly KeyObject[],
  id: string,
  timestampSec: number,
  body: string | Uint8Array,
): Record<string, string> {
  const headers: Record<string, string> = {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSec),
  };
  if (keys.length > 0) headers["webhook-signature"] = signatureHeader(keys, id, timestampSec, body);
  return headers;
}

/**
 * The `webhook-id` of an event's delivery to a subscription: the same on every retry (and
 * after a redrive), different per subscription, so receivers can dedupe on it.
 */
export function webhookId(subscription: string, source: string, eventId: string): string {
  const digest = createHash("sha256")
    .update(subscription)
    .update("\0")
    .update(source)
    .update("\0")
    .update(eventId)
    .digest("base64url");
  return `msg_${digest.slice(0, 32)}`;
}

/**
 * The `webhook-id` of a batch: derived from the subscription and its events' `source` and
 * `id`, in order. One hash over the batch, not one per event and another over those.
 */
export function batchWebhookId(
  subscription: string,
  events: readonly { readonly source: string; readonly id: string }[],
): string {
  const hash = createHash("sha256").update(subscription);
  for (const { source, id } of events) hash.update("\0").update(source).update("\0").update(id);
  return `msg_${hash.digest("base64url").slice(0, 32)}`;
}
