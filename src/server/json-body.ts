import { SwitchyardError } from "../core/errors.js";

/** The raw body as the content-type parsers hand it over: a string, a Buffer, or nothing. */
export type RawBody = string | Buffer | undefined;

export function bodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (Buffer.isBuffer(body)) return body.toString("utf8");
  return "";
}

/** Parses a JSON request body; an empty body is `undefined`. Bad JSON answers `invalid_json`. */
export function parseJsonBody(body: unknown, pointer = ""): unknown {
  const text = bodyText(body);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : "not JSON";
    throw new SwitchyardError("invalid_json", `the body is not valid JSON: ${message}`, {
      errors: [{ pointer, message }],
    });
  }
}
