/**
 * Maps JetStream's and the NATS client's errors to the error catalogue, so every JetStream
 * quirk is handled here and callers see the same codes as on the embedded engine.
 */
import { isSwitchyardError, SwitchyardError } from "../../core/errors.js";

/** JetStream API error codes (`err_code`) the engine branches on. */
export const JS_CODES = {
  consumerNotFound: 10014,
  noMessageFound: 10037,
  streamNameInUse: 10058,
  streamNotFound: 10059,
  wrongLastSequence: 10071,
  messageTooLarge: 10054,
  accountResourcesExceeded: 10002,
  insufficientResources: 10023,
  /** A stream limit refused the message; the description names which one. */
  streamStoreFailed: 10077,
} as const;

/**
 * JetStream's ways of saying "no room": the server's `max_file_store` (or its disk) is used
 * up, the account's storage limit is reached, or a stream with `discard: new` hit `max_bytes`
 * / `max_msgs` ("maximum bytes exceeded"). Topic streams use `discard: old` (retention drops
 * the oldest), so on them it is the first two; all answer 507 `storage_full`.
 */
const STORE_FULL =
  /insufficient (storage )?resources|resource(s)? (limits )?exceeded|maximum (bytes|messages) exceeded|no space left/i;

function isStoreFull(code: number | undefined, description: string): boolean {
  if (code === JS_CODES.insufficientResources || code === JS_CODES.accountResourcesExceeded)
    return true;
  return STORE_FULL.test(description);
}

function storageFull(detail: string, cause?: unknown): SwitchyardError {
  return new SwitchyardError(
    "storage_full",
    `JetStream has no room for the write (${detail}); nothing was stored: free space in the NATS store or raise its limits, then retry`,
    cause === undefined ? {} : { cause },
  );
}

/** The `err_code` of a JetStream API error, or undefined for any other error. */
export function jsErrorCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const api = (error as { apiError?: () => { err_code?: number } }).apiError;
  if (typeof api === "function") return api.call(error).err_code;
  return undefined;
}

export function isJsError(error: unknown, code: number): boolean {
  return jsErrorCode(error) === code;
}

export function closedError(): SwitchyardError {
  return new SwitchyardError("engine_unavailable", "the NATS engine is closed");
}

export function unavailable(doing: string, cause?: unknown): SwitchyardError {
  const message = cause instanceof Error ? `: ${cause.message}` : "";
  return new SwitchyardError("engine_unavailable", `NATS failed while ${doing}${message}`, {
    cause,
  });
}

/** A SwitchyardError passes through; anything else becomes `engine_unavailable` with its cause. */
export function toSwitchyardError(error: unknown, doing: string): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const message = error instanceof Error ? error.message : "";
  if (isStoreFull(jsErrorCode(error), message)) return storageFull(message, error);
  return unavailable(doing, error);
}

export function topicNotFound(name: string): SwitchyardError {
  return new SwitchyardError("topic_not_found", `topic ${name} does not exist`);
}

export function subscriptionNotFound(name: string): SwitchyardError {
  return new SwitchyardError("subscription_not_found", `subscription ${name} does not exist`);
}

/** A rejected PubAck (`{"error": {...}}`) as the error of one event. */
export function pubAckError(apiError: { err_code?: number; description?: string }) {
  const detail = apiError.description ?? "JetStream refused the event";
  if (apiError.err_code === JS_CODES.messageTooLarge)
    return new SwitchyardError("event_too_large", detail);
  if (isStoreFull(apiError.err_code, detail)) return storageFull(detail);
  return new SwitchyardError("append_failed", `JetStream refused the event: ${detail}`);
}

/** A SwitchyardError as plain JSON, to cross the wire between nodes. */
export interface WireError {
  readonly code: SwitchyardError["code"];
  readonly message: string;
}

export function toWire(error: unknown): WireError {
  const e = toSwitchyardError(error, "serving a request for another node");
  return { code: e.code, message: e.message };
}

export function fromWire(wire: WireError): SwitchyardError {
  return new SwitchyardError(wire.code, wire.message);
}
