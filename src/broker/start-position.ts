import type { StartPosition } from "../core/positions.js";
import { type FieldErrors, isRecord, parseRfc3339 } from "./fields.js";

const MESSAGE = 'must be "earliest", "latest", {"offset": n} or {"time": "<RFC 3339>"}';

/** A subscription's `start` or a seek's `to`; records a problem at `pointer` when malformed. */
export function parseStartPosition(
  value: unknown,
  pointer: string,
  errors: FieldErrors,
): StartPosition | undefined {
  if (value === "earliest" || value === "latest") return value;
  if (!isRecord(value) || Object.keys(value).length !== 1) {
    errors.add(pointer, MESSAGE);
    return undefined;
  }
  if ("offset" in value) {
    const offset = value.offset;
    if (typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0)
      return { offset };
    errors.add(`${pointer}/offset`, "must be an integer offset, 0 or more");
    return undefined;
  }
  if ("time" in value) {
    const ms = parseRfc3339(value.time);
    if (ms !== undefined) return { time: new Date(ms).toISOString() };
    errors.add(`${pointer}/time`, "must be an RFC 3339 timestamp");
    return undefined;
  }
  errors.add(pointer, MESSAGE);
  return undefined;
}
