import {
  ERROR_CATALOGUE,
  type ErrorCode,
  type FieldError,
  isSwitchyardError,
  SwitchyardError,
} from "../core/errors.js";

/** An RFC 9457 problem as every error response carries it. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly errors: readonly FieldError[];
  /** Extension members some codes carry, such as `currentVersion` on `version_conflict`. */
  readonly [member: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/**
 * Codes answered with a `Retry-After` header (seconds): this default, unless the error carries
 * its own (`retryAfterSeconds`, as a rate limit's wait does). A full store is freed by an
 * operator or by retention, not by the client: a few seconds keeps retrying clients from
 * hammering it.
 */
export const RETRY_AFTER_SECONDS: Readonly<Partial<Record<ErrorCode, number>>> = {
  storage_full: 5,
  rate_limited: 1,
};

/** The `Retry-After` seconds an error is answered with, or undefined for none. */
export function retryAfterOf(error: SwitchyardError): number | undefined {
  return error.retryAfterSeconds ?? RETRY_AFTER_SECONDS[error.code];
}

// Fastify's own error codes, mapped onto the catalogue so its errors look like ours.
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "body_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_BAD_URL: "invalid_request",
  FST_ERR_INVALID_URL: "invalid_request",
  FST_ERR_NOT_FOUND: "route_not_found",
  FST_ERR_MAX_PARAM_LENGTH: "invalid_name",
};

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("statusCode" in error)) return undefined;
  return typeof error.statusCode === "number" ? error.statusCode : undefined;
}

/** Any thrown value as a SwitchyardError: ours as-is, framework errors mapped, the rest `internal`. */
export function asSwitchyardError(error: unknown): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const mapped = FASTIFY_CODES[codeOf(error) ?? ""];
  const message = error instanceof Error ? error.message : String(error);
  if (mapped !== undefined) return new SwitchyardError(mapped, message, { cause: error });
  if (error instanceof SyntaxError)
    return new SwitchyardError("invalid_json", message, {
      errors: [{ pointer: "", message }],
      cause: error,
    });
  const status = statusOf(error);
  if (status !== undefined && status >= 400 && status < 500)
    return new SwitchyardError("invalid_request", message, { cause: error });
  return new SwitchyardError("internal", "the router failed to handle this request", {
    cause: error,
  });
}

/** THE problem renderer: every error answer of the HTTP and WebSocket API comes from here. */
export function problemOf(error: unknown): Problem {
  const e = asSwitchyardError(error);
  return {
    type: e.type,
    title: ERROR_CATALOGUE[e.code].title,
    status: e.status,
    detail: e.message,
    ...e.details,
    code: e.code,
    errors: e.errors,
  };
}
