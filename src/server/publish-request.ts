import type { IncomingHttpHeaders } from "node:http";
import { SwitchyardError } from "../core/errors.js";
import { binaryModeEvent, hasCloudEventHeaders } from "./binary-mode.js";
import { parseJsonBody } from "./json-body.js";

export const STRUCTURED = "application/cloudevents+json";
export const BATCH = "application/cloudevents-batch+json";

export type PublishMode = "structured" | "batch" | "binary";

export interface PublishRequest {
  readonly mode: PublishMode;
  readonly events: readonly unknown[];
}

function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === undefined) return "";
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

function unsupported(contentType: string | undefined): never {
  throw new SwitchyardError(
    "unsupported_media_type",
    `${contentType === undefined ? "a request without Content-Type" : `Content-Type ${contentType}`} is not a CloudEvents mode: send ${STRUCTURED} (structured), ${BATCH} (batch), or any type with ce-specversion, ce-id, ce-source and ce-type headers (binary)`,
    { errors: [{ pointer: "header:content-type", message: "not a CloudEvents HTTP mode" }] },
  );
}

function requireBody(value: unknown, what: string): unknown {
  if (value === undefined)
    throw new SwitchyardError("invalid_json", `the body is empty; expected ${what}`, {
      errors: [{ pointer: "", message: `expected ${what}` }],
    });
  return value;
}

/** The events of a publish request, by the three CloudEvents HTTP modes of API.md. */
export function parsePublishRequest(
  headers: IncomingHttpHeaders,
  body: Buffer | string | undefined,
): PublishRequest {
  const contentType = headers["content-type"];
  const mediaType = mediaTypeOf(contentType);
  if (mediaType === STRUCTURED)
    return { mode: "structured", events: [requireBody(parseJsonBody(body), "one CloudEvent")] };
  if (mediaType === BATCH) {
    const events = requireBody(parseJsonBody(body), "a JSON array of CloudEvents");
    if (!Array.isArray(events))
      throw new SwitchyardError("invalid_request", "a batch must be a JSON array of CloudEvents", {
        errors: [{ pointer: "", message: "must be an array" }],
      });
    return { mode: "batch", events };
  }
  if (hasCloudEventHeaders(headers))
    return { mode: "binary", events: [binaryModeEvent(headers, body)] };
  return unsupported(contentType);
}
