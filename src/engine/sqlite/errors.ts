/** Maps SQLite's native errors to the error catalogue: callers never see a vendor error. */
import { isSwitchyardError, SwitchyardError } from "../../core/errors.js";

/** SQLite's primary result codes (the low byte of an extended code) that the engine maps. */
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;

export function closedError(): SwitchyardError {
  return new SwitchyardError("engine_unavailable", "the SQLite engine is closed");
}

function primaryCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("errcode" in error)) return undefined;
  return typeof error.errcode === "number" ? error.errcode & 0xff : undefined;
}

/**
 * A SwitchyardError passes through; "database or disk is full" becomes `storage_full`;
 * anything else (read-only store, I/O error, ...) becomes `engine_unavailable` with its cause.
 */
export function toSwitchyardError(error: unknown, doing: string): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = primaryCode(error);
  if (code === SQLITE_FULL)
    return new SwitchyardError(
      "storage_full",
      `the store's disk is full (SQLite failed while ${doing}: ${message}); nothing was written, free space and retry`,
      { cause: error },
    );
  const hint =
    code === SQLITE_READONLY || code === SQLITE_IOERR
      ? "; the store may be read-only or its disk failing"
      : "";
  return new SwitchyardError(
    "engine_unavailable",
    `SQLite failed while ${doing}: ${message}${hint}`,
    { cause: error },
  );
}

export function topicNotFound(name: string): SwitchyardError {
  return new SwitchyardError("topic_not_found", `topic ${name} does not exist`);
}

export function subscriptionNotFound(name: string): SwitchyardError {
  return new SwitchyardError("subscription_not_found", `subscription ${name} does not exist`);
}
