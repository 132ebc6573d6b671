import type { AttemptQuery } from "../../engine/engine.js";
import { bodyObject, FieldErrors, isRecord, readString, rejectUnknown } from "../fields.js";

/** Request parsing and answer shapes of the push endpoints: pause, resume, attempts. */

/** One attempt as `GET /v1/subscriptions/{name}/attempts` shows it. */
export interface AttemptView {
  readonly eventId: string;
  readonly offset: number;
  readonly attempt: number;
  /** RFC 3339. */
  readonly at: string;
  /** Null when no HTTP answer came (connection error, timeout, refused endpoint). */
  readonly status: number | null;
  readonly latencyMs: number;
  readonly error?: string;
  /** The first bytes of the endpoint's answer. */
  readonly response?: string;
}

export const ATTEMPTS_LIMIT = { default: 100, max: 1_000 } as const;
const MAX_REASON = 1_000;

/** `?eventId=&limit=` (query strings); the default limit is 100, at most 1000. */
export function parseAttemptQuery(query: unknown): AttemptQuery {
  const input = isRecord(query) ? query : {};
  const errors = new FieldErrors();
  for (const key of Object.keys(input))
    if (key !== "eventId" && key !== "limit")
      errors.add(`query:${key}`, "is not a known parameter");
  let limit: number = ATTEMPTS_LIMIT.default;
  if (input.limit !== undefined) {
    const n = Number(input.limit);
    if (
      typeof input.limit !== "string" ||
      !/^\d+$/.test(input.limit) ||
      n < 1 ||
      n > ATTEMPTS_LIMIT.max
    )
      errors.add("query:limit", `must be an integer from 1 to ${ATTEMPTS_LIMIT.max}`);
    else limit = n;
  }
  const eventId = input.eventId;
  if (eventId !== undefined && (typeof eventId !== "string" || eventId === ""))
    errors.add("query:eventId", "must be a non-empty string");
  errors.check();
  return typeof eventId === "string" ? { eventId, limit } : { limit };
}

/** The optional body of `/pause`: `{ "reason"?: string }`. */
export function parsePauseRequest(body: unknown): { reason?: string } {
  if (body === undefined || body === null || body === "") return {};
  const input = bodyObject(body);
  const errors = new FieldErrors();
  rejectUnknown(input, new Set(["reason"]), "", errors);
  const reason = readString(input, "reason", "", errors, MAX_REASON);
  errors.check();
  return reason === undefined ? {} : { reason };
}
