import { type ErrorCode, type FieldError, failValidation } from "../core/errors.js";

/**
 * Pointer-precise readers for request bodies. Each reader records a problem instead of
 * throwing, so one answer names every bad field; `check()` throws them all at once.
 */
export class FieldErrors {
  readonly list: FieldError[] = [];

  add(pointer: string, message: string): void {
    this.list.push({ pointer, message });
  }

  /** Throws `code` with every recorded problem, if any. */
  check(code: ErrorCode = "invalid_request"): void {
    if (this.list.length > 0) failValidation(this.list, code);
  }
}

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface IntRange {
  readonly min: number;
  readonly max: number;
}

function readRanged(
  obj: JsonObject,
  key: string,
  at: string,
  range: IntRange,
  errors: FieldErrors,
  kind: { readonly accepts: (value: number) => boolean; readonly name: string },
): number | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !kind.accepts(value)) {
    errors.add(`${at}/${key}`, `must be ${kind.name}`);
    return undefined;
  }
  if (value < range.min || value > range.max) {
    errors.add(`${at}/${key}`, `must be between ${range.min} and ${range.max}`);
    return undefined;
  }
  return value;
}

const INTEGER = { accepts: Number.isSafeInteger, name: "an integer" };
const FINITE = { accepts: Number.isFinite, name: "a number" };

/** The integer at `obj[key]`, undefined when absent; records a problem when present but bad. */
export function readInt(
  obj: JsonObject,
  key: string,
  at: string,
  range: IntRange,
  errors: FieldErrors,
): number | undefined {
  return readRanged(obj, key, at, range, errors, INTEGER);
}

/** The finite number at `obj[key]` within `range`, undefined when absent. */
export function readNumber(
  obj: JsonObject,
  key: string,
  at: string,
  range: IntRange,
  errors: FieldErrors,
): number | undefined {
  return readRanged(obj, key, at, range, errors, FINITE);
}

/** The string at `obj[key]` (non-empty, at most `maxLength`), undefined when absent. */
export function readString(
  obj: JsonObject,
  key: string,
  at: string,
  errors: FieldErrors,
  maxLength = 4096,
): string | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) {
    errors.add(`${at}/${key}`, `must be a non-empty string of at most ${maxLength} characters`);
    return undefined;
  }
  return value;
}

export function readBoolean(
  obj: JsonObject,
  key: string,
  at: string,
  errors: FieldErrors,
): boolean | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") {
    errors.add(`${at}/${key}`, "must be true or false");
    return undefined;
  }
  return value;
}

/** The object at `obj[key]`, undefined when absent or null; records a problem when not an object. */
export function readObject(
  obj: JsonObject,
  key: string,
  at: string,
  errors: FieldErrors,
): JsonObject | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) {
    errors.add(`${at}/${key}`, "must be an object");
    return undefined;
  }
  return value;
}

/** Records a problem for each member of `obj` not in `known` (catches typos such as `ackTimeout`). */
export function rejectUnknown(
  obj: JsonObject,
  known: ReadonlySet<string>,
  at: string,
  errors: FieldErrors,
): void {
  for (const key of Object.keys(obj))
    if (!known.has(key)) errors.add(`${at}/${key}`, "is not a known field");
}

/** The request body as an object: `undefined`/`null` become `{}`; anything else is a problem. */
export function bodyObject(body: unknown): JsonObject {
  if (body === undefined || body === null) return {};
  if (isRecord(body)) return body;
  return failValidation([{ pointer: "", message: "the body must be a JSON object" }]);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Epoch milliseconds of an RFC 3339 timestamp, or undefined when it is not one. */
export function parseRfc3339(value: unknown): number | undefined {
  if (typeof value !== "string" || !RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
