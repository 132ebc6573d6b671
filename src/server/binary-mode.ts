import type { IncomingHttpHeaders } from "node:http";
import { type FieldError, SwitchyardError } from "../core/errors.js";
import { isJsonMediaType } from "../core/event.js";
import { parseJsonBody } from "./json-body.js";

const PREFIX = "ce-";

export function hasCloudEventHeaders(headers: IncomingHttpHeaders): boolean {
  for (const name in headers) if (name.startsWith(PREFIX)) return true;
  return false;
}

function isTextType(mediaType: string): boolean {
  return (
    mediaType.startsWith("text/") || mediaType === "application/xml" || mediaType.endsWith("+xml")
  );
}

// Percent-decoding per the CloudEvents HTTP binding: values are UTF-8, %XX-escaped.
function decodeHeader(name: string, value: string, errors: FieldError[]): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    errors.push({ pointer: `header:${name}`, message: "is not valid percent-encoded UTF-8" });
    return value;
  }
}

function attributes(headers: IncomingHttpHeaders, errors: FieldError[]): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (!name.startsWith(PREFIX) || raw === undefined) continue;
    const attribute = name.slice(PREFIX.length);
    if (attribute === "data" || attribute === "data_base64")
      errors.push({
        pointer: `header:${name}`,
        message: "data travels in the body in binary mode",
      });
    event[attribute] = decodeHeader(name, Array.isArray(raw) ? raw.join(",") : raw, errors);
  }
  return event;
}

function data(mediaType: string, body: Buffer | string | undefined): Record<string, unknown> {
  if (body === undefined || body.length === 0) return {};
  if (isJsonMediaType(mediaType)) return { data: parseJsonBody(body, "body") };
  if (isTextType(mediaType))
    return { data: typeof body === "string" ? body : body.toString("utf8") };
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  return { data_base64: bytes.toString("base64") };
}

/**
 * A binary-mode CloudEvent: `ce-*` headers are attributes (percent-decoded), `Content-Type`
 * is `datacontenttype`, the body is `data` (parsed JSON for JSON types, a string for text,
 * otherwise `data_base64`).
 */
export function binaryModeEvent(
  headers: IncomingHttpHeaders,
  body: Buffer | string | undefined,
): Record<string, unknown> {
  const errors: FieldError[] = [];
  const event = attributes(headers, errors);
  if (errors.length > 0)
    throw new SwitchyardError("invalid_event", errors[0]?.message ?? "invalid header", { errors });
  const contentType = headers["content-type"];
  const mediaType = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  if (contentType !== undefined) event.datacontenttype = contentType;
  return { ...event, ...data(mediaType, body) };
}

// `/source` → `header:ce-source`; the data (`/data`, `/data/total`) is the body (`body`, `body/total`).
function headerPointer(pointer: string): string {
  const attribute = pointer.replace(/^\//, "");
  if (attribute === "" || attribute === "data" || attribute === "data_base64") return "body";
  if (attribute.startsWith("data/")) return `body${pointer.slice("/data".length)}`;
  return `header:${PREFIX}${attribute}`;
}

/**
 * Rewrites body pointers (`/source`, `/data/total`) of a binary-mode event's errors to where
 * the binary mode carries them (`header:ce-source`, `body/total`).
 */
export function headerPointers(error: SwitchyardError): SwitchyardError {
  const errors = error.errors.map(
    (e): FieldError => ({ pointer: headerPointer(e.pointer), message: e.message }),
  );
  const detail = error.message.replace(
    /^(\/[^:\s]*):/,
    (_, pointer: string) => `${headerPointer(pointer)}:`,
  );
  return new SwitchyardError(error.code, detail, { errors, cause: error });
}
