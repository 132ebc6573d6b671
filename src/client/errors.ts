import {
  ERROR_CATALOGUE,
  type ErrorCode,
  type FieldError,
  SwitchyardError,
} from "../core/errors.js";

/** An RFC 9457 problem as the router sends it (`code` and `errors` are Switchyard's additions). */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status: number;
  readonly detail?: string;
  readonly code: string;
  readonly errors?: readonly FieldError[];
  readonly [member: string]: unknown;
}

export interface ClientErrorOptions {
  readonly cause?: unknown;
  /** From a `Retry-After` header: how long the router asked us to wait. */
  readonly retryAfterMs?: number;
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

// A newer router may send a code this SDK does not know: keep it in `problem.code` and give
// callers the nearest known code so `switch (err.code)` stays exhaustive.
function nearestCode(problem: Problem): ErrorCode {
  if (isErrorCode(problem.code)) return problem.code;
  if (problem.status === 404) return "route_not_found";
  if (problem.status === 409) return "conflict";
  if (problem.status === 413) return "body_too_large";
  if (problem.status >= 400 && problem.status < 500) return "invalid_request";
  return "unexpected_response";
}

/**
 * What the SDK rejects with: the router's problem (`code`, `status`, `errors`) or a
 * client-side `unreachable` / `unexpected_response`. `problem` is the body as received.
 */
export class SwitchyardClientError extends SwitchyardError {
  declare readonly status: number;
  readonly problem: Problem;
  readonly retryAfterMs: number | undefined;

  constructor(problem: Problem, options: ClientErrorOptions = {}) {
    super(nearestCode(problem), problem.detail ?? problem.title ?? problem.code, {
      errors: problem.errors ?? [],
      cause: options.cause,
    });
    this.name = "SwitchyardClientError";
    this.status = problem.status;
    this.problem = problem;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Network failures, 5xx and 429 may succeed on a later try; every other 4xx will not. */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** A client-side failure with a catalogue code (no HTTP answer to carry). */
export function clientError(
  code: ErrorCode,
  detail: string,
  options: ClientErrorOptions & { readonly errors?: readonly FieldError[] } = {},
): SwitchyardClientError {
  const spec = ERROR_CATALOGUE[code];
  const problem: Problem = {
    title: spec.title,
    status: spec.status,
    detail,
    code,
    ...(options.errors ? { errors: options.errors } : {}),
  };
  return new SwitchyardClientError(problem, options);
}

export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.status === "number" && typeof candidate.code === "string";
}

/** Throw from a handler to send its event straight to the dead-letter topic. */
export class Reject extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = "Reject";
    this.reason = reason;
  }
}

/** Throw from a handler to have its event redelivered after `delayMs` (a nack with delay). */
export class RetryAfter extends Error {
  readonly delayMs: number;
  constructor(delayMs: number, message = `retry after ${delayMs} ms`) {
    super(message);
    this.name = "RetryAfter";
    this.delayMs = delayMs;
  }
}
