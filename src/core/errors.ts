/**
 * The error catalogue. Every failure a caller can see has a stable `code` here; callers
 * branch on codes, never on message text. `server/problem.ts` is the only place that renders
 * these as RFC 9457 problem+json, and `docs/errors.md` lists the same codes (a test checks).
 */

export interface FieldError {
  /** JSON Pointer (RFC 6901) into the request body, or a header/query name such as `header:ce-id`. */
  readonly pointer: string;
  readonly message: string;
}

export interface ErrorSpec {
  readonly status: number;
  readonly title: string;
}

export const ERROR_CATALOGUE = {
  invalid_name: { status: 400, title: "Invalid name" },
  invalid_json: { status: 400, title: "Malformed JSON" },
  invalid_event: { status: 400, title: "Invalid CloudEvent" },
  invalid_request: { status: 400, title: "Invalid request" },
  request_timeout: { status: 408, title: "Request timeout" },
  headers_too_large: { status: 431, title: "Request headers too large" },
  invalid_ack_id: { status: 400, title: "Invalid ackId" },
  invalid_filter: { status: 400, title: "Invalid filter" },
  invalid_endpoint: { status: 400, title: "Push endpoint not allowed" },
  invalid_signature: { status: 401, title: "Invalid webhook signature" },
  invalid_schema: { status: 400, title: "Invalid schema" },
  reserved_attribute: { status: 400, title: "Reserved attribute name" },
  event_too_large: { status: 413, title: "Event too large" },
  body_too_large: { status: 413, title: "Request body too large" },
  batch_too_large: { status: 413, title: "Too many events in one batch" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  schema_violation: { status: 422, title: "Schema violation" },
  schema_unknown_type: { status: 422, title: "No schema for the event type" },
  unauthenticated: { status: 401, title: "Unauthenticated" },
  forbidden: { status: 403, title: "Forbidden" },
  csrf_failed: { status: 403, title: "CSRF check failed" },
  rate_limited: { status: 429, title: "Rate limited" },
  misdirected_request: { status: 421, title: "Misdirected request" },
  topic_not_found: { status: 404, title: "Topic not found" },
  subscription_not_found: { status: 404, title: "Subscription not found" },
  redrive_not_found: { status: 404, title: "Redrive not found" },
  key_not_found: { status: 404, title: "API key not found" },
  schema_not_found: { status: 404, title: "Schema not found" },
  scheduled_not_found: { status: 404, title: "Scheduled event not found" },
  route_not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  upgrade_required: { status: 426, title: "WebSocket upgrade required" },
  topic_in_use: { status: 409, title: "Topic in use" },
  subscription_topic_changed: { status: 409, title: "A subscription's topic cannot change" },
  schema_incompatible: { status: 409, title: "Schema incompatible" },
  index_missing: { status: 409, title: "Index missing" },
  version_conflict: { status: 409, title: "Version conflict" },
  conflict: { status: 409, title: "Conflict" },
  revision_conflict: { status: 409, title: "Revision conflict" },
  shutting_down: { status: 503, title: "Shutting down" },
  engine_unavailable: { status: 503, title: "Engine unavailable" },
  storage_full: { status: 507, title: "Storage full" },
  append_failed: { status: 500, title: "Append failed" },
  internal: { status: 500, title: "Internal error" },
  // Client-side codes: the SDK and CLI raise these when no usable HTTP answer arrived.
  unreachable: { status: 503, title: "Router unreachable" },
  unexpected_response: { status: 502, title: "Unexpected response from the router" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const PROBLEM_TYPE_BASE = "https://switchyard.dev/problems/";

export interface SwitchyardErrorOptions {
  readonly errors?: readonly FieldError[];
  readonly cause?: unknown;
  /** This error's own `Retry-After` (seconds), over the per-code default of the server. */
  readonly retryAfterSeconds?: number;
  /** Extension members of the problem (e.g. `currentVersion` of a `version_conflict`). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The one error class of Switchyard; `code` selects status and title from the catalogue. */
export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly errors: readonly FieldError[];
  readonly retryAfterSeconds: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, detail: string, options: SwitchyardErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SwitchyardError";
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.title = ERROR_CATALOGUE[code].title;
    this.errors = options.errors ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }

  get type(): string {
    return PROBLEM_TYPE_BASE + this.code.replaceAll("_", "-");
  }
}

export function isSwitchyardError(value: unknown): value is SwitchyardError {
  return value instanceof SwitchyardError;
}

/** Throws `invalid_request` (or `code`) carrying every field error at once. */
export function failValidation(
  errors: readonly FieldError[],
  code: ErrorCode = "invalid_request",
): never {
  const first = errors[0];
  const detail =
    errors.length === 1 && first
      ? `${first.pointer || "body"}: ${first.message}`
      : `${errors.length} fields are invalid`;
  throw new SwitchyardError(code, detail, { errors });
}
