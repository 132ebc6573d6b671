import { LIMITS } from "../core/config.js";
import { type FieldError, failValidation } from "../core/errors.js";
import type { LogPosition } from "../core/positions.js";

export interface ReadQuery {
  readonly from: LogPosition;
  readonly limit: number;
}

const DIGITS = /^\d{1,16}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function single(
  query: Record<string, unknown>,
  name: string,
  errors: FieldError[],
): string | undefined {
  const value = query[name];
  if (value === undefined || typeof value === "string") return value;
  errors.push({ pointer: `query:${name}`, message: "must be given once" });
  return undefined;
}

function nonNegative(value: string, name: string, errors: FieldError[]): number | undefined {
  const n = DIGITS.test(value) ? Number(value) : Number.NaN;
  if (Number.isSafeInteger(n)) return n;
  errors.push({ pointer: `query:${name}`, message: "must be a non-negative integer" });
  return undefined;
}

function position(
  from: string | undefined,
  since: string | undefined,
  errors: FieldError[],
): LogPosition {
  if (from !== undefined && since !== undefined) {
    errors.push({ pointer: "query:since", message: "give from or since, not both" });
    return { offset: 1 };
  }
  if (since !== undefined) {
    const ms = RFC3339.test(since) ? Date.parse(since) : Number.NaN;
    if (!Number.isNaN(ms)) return { time: ms };
    errors.push({ pointer: "query:since", message: "must be an RFC 3339 timestamp" });
    return { offset: 1 };
  }
  const offset = from === undefined ? 1 : nonNegative(from, "from", errors);
  return { offset: Math.max(1, offset ?? 1) };
}

/** `?from=` / `?since=` / `?limit=` of `GET /v1/topics/{topic}/events`. */
export function parseReadQuery(query: Record<string, unknown>): ReadQuery {
  const errors: FieldError[] = [];
  const from = position(single(query, "from", errors), single(query, "since", errors), errors);
  const limitText = single(query, "limit", errors);
  let limit: number = LIMITS.readLimitDefault;
  if (limitText !== undefined) {
    const n = nonNegative(limitText, "limit", errors);
    if (n !== undefined && (n < 1 || n > LIMITS.readLimitMax))
      errors.push({
        pointer: "query:limit",
        message: `must be between 1 and ${LIMITS.readLimitMax}`,
      });
    else if (n !== undefined) limit = n;
  }
  if (errors.length > 0) failValidation(errors);
  return { from, limit };
}

export interface SubjectQuery {
  readonly fromVersion: number;
  readonly limit: number;
}

function limitOf(query: Record<string, unknown>, errors: FieldError[]): number {
  const limitText = single(query, "limit", errors);
  if (limitText === undefined) return LIMITS.readLimitDefault;
  const n = nonNegative(limitText, "limit", errors);
  if (n !== undefined && n >= 1 && n <= LIMITS.readLimitMax) return n;
  if (n !== undefined)
    errors.push({
      pointer: "query:limit",
      message: `must be between 1 and ${LIMITS.readLimitMax}`,
    });
  return LIMITS.readLimitDefault;
}

/** `?fromVersion=` / `?limit=` of `GET /v1/topics/{topic}/subjects/{subject}/events`. */
export function parseSubjectQuery(query: Record<string, unknown>): SubjectQuery {
  const errors: FieldError[] = [];
  const text = single(query, "fromVersion", errors);
  const fromVersion = text === undefined ? 1 : nonNegative(text, "fromVersion", errors);
  const limit = limitOf(query, errors);
  if (errors.length > 0) failValidation(errors);
  return { fromVersion: Math.max(1, fromVersion ?? 1), limit };
}

/** `?expectedVersion=` of a publish: absent, or a non-negative integer (0 = no stream yet). */
export function parseExpectedVersion(query: Record<string, unknown>): number | undefined {
  const errors: FieldError[] = [];
  const text = single(query, "expectedVersion", errors);
  const version = text === undefined ? undefined : nonNegative(text, "expectedVersion", errors);
  if (errors.length > 0) failValidation(errors);
  return version;
}

/** `?force=true|false`. */
export function parseForce(query: Record<string, unknown>): boolean {
  const value = query.force;
  if (value === undefined || value === "false") return false;
  if (value === "true" || value === "") return true;
  return failValidation([{ pointer: "query:force", message: 'must be "true" or "false"' }]);
}
