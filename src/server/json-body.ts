import { SwitchyardError } from "../core/errors.js";

/** The raw body as the content-type parsers hand it over: a string, a Buffer, or nothing. */
export type RawBody = string | Buffer | undefined;

export function bodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (Buffer.isBuffer(body)) return body.toString("utf8");
  return "";
}

// Checks leading characters only: `trim()` would copy a large body just to test it.
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

/** Parses a JSON request body; an empty body is `undefined`. Bad JSON answers `invalid_json`. */
export function parseJsonBody(body: unknown, pointer = ""): unknown {
  const text = bodyText(body);
  if (isBlank(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : "not JSON";
    throw new SwitchyardError("invalid_json", `the body is not valid JSON: ${message}`, {
      errors: [{ pointer, message }],
    });
  }
}
