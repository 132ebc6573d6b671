/** Parsers for the schema commands' arguments; each throws a one-line usage failure. */
import type { CompatibilityMode, JsonSchema } from "../client/index.js";
import { isEventType } from "../core/names.js";
import { usage } from "./fail.js";
import { parseInteger } from "./parse.js";
import { readJsonFile } from "./schema-folder.js";

/** An event type, `[a-zA-Z0-9._-]{1,200}`; `.` and `..` are refused too (they name folders). */
export function parseEventType(value: string): string {
  if (!isEventType(value) || value === "." || value === "..")
    throw usage(
      `${JSON.stringify(value)} is not an event type`,
      "a type is [a-zA-Z0-9._-]{1,200}, e.g. order.placed",
    );
  return value;
}

/** A comma-separated list of event types (`--types a,b`), at least one. */
export function parseEventTypes(value: string): string[] {
  const types = value
    .split(",")
    .map((type) => type.trim())
    .filter((type) => type !== "")
    .map(parseEventType);
  if (types.length === 0)
    throw usage("--types names no type", "write e.g. --types order.placed,user.created");
  return types;
}

/** A version number argument (1, 2, …). */
export function parseVersion(value: string, what: string): number {
  return parseInteger(value, what, 1);
}

/** A schema file (`-` for standard input): one JSON Schema document, an object or a boolean. */
export function readSchemaFile(path: string): JsonSchema {
  const value = readJsonFile(path);
  if (
    typeof value === "boolean" ||
    (typeof value === "object" && value !== null && !Array.isArray(value))
  )
    return value as JsonSchema;
  throw usage(
    `${path} holds ${Array.isArray(value) ? "an array" : typeof value}, not a schema`,
    'a schema file holds one JSON Schema document, e.g. { "type": "object" }',
  );
}

/** A compatibility mode, checked against the registry's own list. */
export async function parseMode(value: string, what: string): Promise<CompatibilityMode> {
  const { COMPATIBILITY_MODES } = await import("../index.js");
  const mode = COMPATIBILITY_MODES.find((m) => m === value.toUpperCase());
  if (mode === undefined)
    throw usage(
      `${what} ${JSON.stringify(value)} is not a compatibility mode`,
      `use one of ${COMPATIBILITY_MODES.join(", ")}`,
    );
  return mode;
}
