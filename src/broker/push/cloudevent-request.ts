import { type CloudEvent, isJsonMediaType } from "../../core/event.js";
import { storedEventJson } from "../../core/stored-event.js";
import type { LogRecord } from "../../engine/engine.js";

/**
 * The HTTP form of events per the CloudEvents HTTP protocol binding: binary mode (attributes
 * in `ce-*` headers, `data` as the body), structured mode (the event as
 * `application/cloudevents+json`) and batch mode (`application/cloudevents-batch+json`).
 * Router metadata (`offset`, `topic`, `appendedat`) travels like any attribute, as in pull.
 */

export interface EventRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

const STRUCTURED = "application/cloudevents+json; charset=utf-8";
const BATCH = "application/cloudevents-batch+json; charset=utf-8";
const NOT_HEADERS = new Set(["data", "data_base64", "datacontenttype"]);

/**
 * Percent-encodes a header value as the binding asks: space, `"`, `%` and everything outside
 * printable ASCII (UTF-8 first). The result never holds CR, LF or NUL, so an attribute value
 * cannot inject a header.
 */
const SAFE_HEADER_VALUE = /^[\x21\x23\x24\x26-\x7e]*$/;

export function encodeHeaderValue(value: string): string {
  if (SAFE_HEADER_VALUE.test(value)) return value; // the common case: nothing to escape
  let out = "";
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code > 0x20 && code < 0x7f && char !== '"' && char !== "%") out += char;
    else
      out += [...Buffer.from(char, "utf8")]
        .map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
        .join("");
  }
  return out;
}

function binaryBody(event: CloudEvent): { body: string | Uint8Array; contentType?: string } {
  const type = event.datacontenttype;
  if (typeof event.data_base64 === "string")
    return {
      body: Buffer.from(event.data_base64, "base64"),
      contentType: type ?? "application/octet-stream",
    };
  if (event.data === undefined)
    return type === undefined ? { body: "" } : { body: "", contentType: type };
  if (typeof event.data === "string" && type !== undefined && !isJsonMediaType(type))
    return { body: event.data, contentType: type };
  return { body: JSON.stringify(event.data), contentType: type ?? "application/json" };
}

/** Binary mode: one event, attributes as `ce-*` headers. */
export function binaryRequest(record: LogRecord, event: CloudEvent): EventRequest {
  const headers: Record<string, string> = {
    "ce-offset": String(record.offset),
    "ce-topic": encodeHeaderValue(record.topic),
    "ce-appendedat": new Date(record.appendedAt).toISOString(),
  };
  for (const [name, value] of Object.entries(event)) {
    if (NOT_HEADERS.has(name) || value === undefined || value === null) continue;
    headers[`ce-${name}`] = encodeHeaderValue(String(value));
  }
  const { body, contentType } = binaryBody(event);
  if (contentType !== undefined) headers["content-type"] = contentType;
  return { headers, body };
}

/** Structured mode: the StoredEvent JSON, spliced without re-serialising the event. */
export function structuredRequest(record: LogRecord): EventRequest {
  return { headers: { "content-type": STRUCTURED }, body: storedEventJson(record) };
}

/** Batch mode: a JSON array of StoredEvents. */
export function batchRequest(records: readonly LogRecord[]): EventRequest {
  return {
    headers: { "content-type": BATCH },
    body: `[${records.map(storedEventJson).join(",")}]`,
  };
}
