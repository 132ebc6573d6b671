import { type PushConfig, SUBSCRIPTION_DEFAULTS } from "../core/config.js";
import { type FieldErrors, isRecord, type JsonObject, readInt, rejectUnknown } from "./fields.js";
import { PUSH_DELIVERY_FIELDS, parsePushDelivery } from "./push/delivery-config.js";
import { reservedHeaderError } from "./push/headers.js";

const PUSH_FIELDS = new Set([
  "url",
  "headers",
  "headerNames",
  "timeoutMs",
  "mode",
  "secrets",
  "secret",
  "secretCount",
  ...PUSH_DELIVERY_FIELDS,
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
const MAX_HEADERS = 64;
const MAX_SECRETS = 10;
export const PUSH_TIMEOUT_BOUNDS = { min: 1, max: 300_000 } as const;

function parseUrl(input: JsonObject, at: string, errors: FieldErrors): string {
  const value = input.url;
  if (typeof value !== "string" || value.length > 2048 || !URL.canParse(value)) {
    errors.add(`${at}/url`, "must be an absolute http(s) URL of at most 2048 characters");
    return "";
  }
  const protocol = new URL(value).protocol;
  if (protocol !== "http:" && protocol !== "https:")
    errors.add(`${at}/url`, "must use http or https");
  return value;
}

/** `https://host:port`, or null for a URL that does not parse. */
function originOf(url: string): string | null {
  return URL.canParse(url) ? new URL(url).origin : null;
}

/**
 * Header values are write-only too: left out, the stored ones stay (null clears them). Not
 * when the endpoint moves to another origin: stored values (an `authorization`, say) would
 * then go to a host they were never meant for, readable by whoever set the new URL.
 */
function keptHeaders(
  url: string,
  at: string,
  previous: PushConfig | null,
  errors: FieldErrors,
): Record<string, string> {
  if (previous === null || Object.keys(previous.headers).length === 0) return {};
  const origin = originOf(url);
  if (origin !== null && origin !== originOf(previous.url))
    errors.add(
      `${at}/headers`,
      "the endpoint moves to another origin: give the headers again (or {} for none)",
    );
  return { ...previous.headers };
}

function parseHeaders(
  input: JsonObject,
  at: string,
  url: string,
  previous: PushConfig | null,
  errors: FieldErrors,
): Record<string, string> {
  const value = input.headers;
  if (value === undefined) return keptHeaders(url, at, previous, errors);
  if (value === null) return {};
  if (!isRecord(value)) {
    errors.add(`${at}/headers`, "must be an object mapping header names to strings");
    return {};
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_HEADERS) errors.add(`${at}/headers`, `at most ${MAX_HEADERS} headers`);
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of entries) {
    const reserved = reservedHeaderError(name);
    if (!HEADER_NAME.test(name)) errors.add(`${at}/headers/${name}`, "is not a valid header name");
    else if (reserved !== null) errors.add(`${at}/headers/${name}`, reserved);
    else if (typeof headerValue !== "string" || /[\r\n\0]/.test(headerValue))
      errors.add(`${at}/headers/${name}`, "must be a string without line breaks");
    else headers[name] = headerValue;
  }
  return headers;
}

/** Standard Webhooks secrets: `whsec_` and base64 of 24 to 64 random bytes. */
function checkSecret(value: unknown, pointer: string, errors: FieldErrors): value is string {
  const match = typeof value === "string" ? SECRET.exec(value) : null;
  const bytes = match?.[1] === undefined ? 0 : Buffer.from(match[1], "base64").length;
  if (bytes >= 24 && bytes <= 64) return true;
  errors.add(pointer, 'must be "whsec_" followed by the base64 of 24 to 64 bytes');
  return false;
}

function parseSecrets(
  input: JsonObject,
  at: string,
  previous: readonly string[],
  errors: FieldErrors,
): string[] {
  if (input.secret !== undefined && input.secrets !== undefined) {
    errors.add(`${at}/secret`, "give secret or secrets, not both");
    return [];
  }
  if (input.secret !== undefined)
    return checkSecret(input.secret, `${at}/secret`, errors) ? [input.secret as string] : [];
  // Secrets are write-only, so a config read back and PUT again keeps the ones it had.
  if (input.secrets === undefined) return [...previous];
  if (!Array.isArray(input.secrets) || input.secrets.length > MAX_SECRETS) {
    errors.add(`${at}/secrets`, `must be an array of at most ${MAX_SECRETS} secrets`);
    return [];
  }
  return input.secrets.filter((s, i): s is string => checkSecret(s, `${at}/secrets/${i}`, errors));
}

/**
 * A subscription's `push` block. Omitted `secrets` and `headers` keep those of `previous` (the
 * config being updated): responses never show their values, so a read-modify-write must not
 * erase them. Headers are kept only while the endpoint's origin stays the same.
 */
export function parsePushConfig(
  value: unknown,
  at: string,
  previous: PushConfig | null,
  errors: FieldErrors,
): PushConfig | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) {
    errors.add(at, "must be an object");
    return null;
  }
  rejectUnknown(value, PUSH_FIELDS, at, errors);
  const mode = value.mode ?? "binary";
  if (mode !== "binary" && mode !== "structured")
    errors.add(`${at}/mode`, 'must be "binary" or "structured"');
  const url = parseUrl(value, at, errors);
  return {
    url,
    headers: parseHeaders(value, at, url, previous, errors),
    timeoutMs:
      readInt(value, "timeoutMs", at, PUSH_TIMEOUT_BOUNDS, errors) ??
      SUBSCRIPTION_DEFAULTS.pushTimeoutMs,
    mode: mode === "structured" ? "structured" : "binary",
    secrets: parseSecrets(value, at, previous?.secrets ?? [], errors),
    ...parsePushDelivery(value, at, previous, errors),
  };
}
