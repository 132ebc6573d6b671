import { createHmac, timingSafeEqual } from "node:crypto";
import { SwitchyardError } from "../core/errors.js";

/**
 * Verifies a Standard Webhooks signature (what Switchyard's push delivery sends, and what any
 * Standard Webhooks sender produces): HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`
 * with a `whsec_` secret, a timestamp within the tolerance of now (replay protection), and at
 * least one `v1,` signature in the space-separated header matching one of the secrets.
 */

/** Node's `req.headers`, a fetch `Headers`, or a plain object (names in any case). */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyWebhookOptions {
  /** Largest accepted distance between the timestamp and now, in seconds. Default 300. */
  readonly toleranceSec?: number;
  /** Now, in milliseconds since the epoch (for tests). */
  readonly now?: number;
}

export interface VerifiedWebhook {
  /** The `webhook-id`: the same on every retry of one event, so dedupe on it. */
  readonly id: string;
  /** The `webhook-timestamp`, in seconds since the epoch. */
  readonly timestamp: number;
}

const SECRET_PREFIX = "whsec_";
const DEFAULT_TOLERANCE_SEC = 5 * 60;

function fail(detail: string): never {
  throw new SwitchyardError("invalid_signature", detail);
}

function header(headers: WebhookHeaders, name: string): string | null {
  if ("get" in headers && typeof headers.get === "function") return headers.get(name);
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === "string" ? value : (value?.[0] ?? null);
  }
  return null;
}

function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, "base64");
  if (key.length === 0) fail("the webhook secret is empty or not base64");
  return key;
}

function checkTimestamp(raw: string, options: VerifyWebhookOptions): number {
  if (!/^\d{1,12}$/.test(raw)) fail("webhook-timestamp is not a Unix time in seconds");
  const timestamp = Number(raw);
  const nowSec = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  if (Math.abs(nowSec - timestamp) > tolerance)
    fail(`webhook-timestamp is more than ${tolerance}s away from now`);
  return timestamp;
}

function matches(expected: Buffer, signatures: string): boolean {
  let found = false;
  for (const entry of signatures.split(" ")) {
    const [version, encoded] = entry.split(",", 2);
    if (version !== "v1" || encoded === undefined) continue;
    const given = Buffer.from(encoded, "base64");
    // Keep comparing after a match: the time taken must not depend on which secret matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) found = true;
  }
  return found;
}

/**
 * Throws `SwitchyardError` with code `invalid_signature` unless the request is signed by one of
 * `secrets` within the tolerance. `body` must be the raw request body, exactly as received.
 */
export function verifyWebhook(
  headers: WebhookHeaders,
  body: string | Uint8Array,
  secrets: string | readonly string[],
  options: VerifyWebhookOptions = {},
): VerifiedWebhook {
  const id = header(headers, "webhook-id");
  const rawTimestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !rawTimestamp || !signatures)
    fail("webhook-id, webhook-timestamp and webhook-signature headers are required");
  const timestamp = checkTimestamp(rawTimestamp, options);
  const signed = `${id}.${rawTimestamp}.`;
  let verified = false;
  for (const secret of typeof secrets === "string" ? [secrets] : secrets) {
    const expected = createHmac("sha256", keyOf(secret)).update(signed).update(body).digest();
    if (matches(expected, signatures)) verified = true;
  }
  if (!verified) fail("no webhook-signature matches the secret");
  return { id, timestamp };
}
