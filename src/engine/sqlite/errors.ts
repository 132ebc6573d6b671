/** Maps SQLite's native errors to the error catalogue: callers never see a vendor error. */
import { isSwitchyardError, SwitchyardError } from "../../core/errors.js";

export function closedError(): SwitchyardError {
  return new SwitchyardError("engine_unavailable", "the SQLite engine is closed");
}

/** A SwitchyardError passes through; anything else becomes `engine_unavailable` with its cause. */
export function toSwitchyardError(error: unknown, doing: string): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SwitchyardError("engine_unavailable", `SQLite failed while ${doing}: ${message}`, {
    cause: error,
  });
}

export function topicNotFound(name: string): SwitchyardError {
  return new SwitchyardError("topic_not_found", `topic ${name} does not exist`);
}

export function subscriptionNotFound(name: string): SwitchyardError {
  return new SwitchyardError("subscription_not_found", `subscription ${name} does not exist`);
}
