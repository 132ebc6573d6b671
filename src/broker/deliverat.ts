/**
 * The `deliverat` extension attribute (API.md "Scheduled events"): an RFC 3339 time at most
 * 365 days ahead. Read from the raw input before anything else is prepared, so a bad one is
 * refused with the other field errors of the request and nothing is written.
 */
import { type FieldError, SwitchyardError } from "../core/errors.js";
import { RFC3339 } from "../core/event.js";

/** API.md: more than this far ahead is refused. */
export const MAX_SCHEDULE_AHEAD_MS = 365 * 24 * 60 * 60 * 1000;

function pointerOf(batch: boolean, index: number): string {
  return `${batch ? `/${index}` : ""}/deliverat`;
}

/**
 * The due time (epoch ms) of each input event, null for those without `deliverat`; throws
 * `invalid_event` pointing at every bad one.
 */
export function deliverTimes(
  input: readonly unknown[],
  batch: boolean,
  now: number,
): readonly (number | null)[] | null {
  let any = false;
  const errors: FieldError[] = [];
  const times = input.map((event, i): number | null => {
    if (typeof event !== "object" || event === null || !("deliverat" in event)) return null;
    any = true;
    const value: unknown = (event as { deliverat: unknown }).deliverat;
    const at = typeof value === "string" && RFC3339.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(at)) {
      errors.push({ pointer: pointerOf(batch, i), message: "must be an RFC 3339 timestamp" });
      return null;
    }
    if (at - now > MAX_SCHEDULE_AHEAD_MS) {
      errors.push({ pointer: pointerOf(batch, i), message: "is more than 365 days ahead" });
      return null;
    }
    return at;
  });
  if (errors.length > 0) {
    const first = errors[0] as FieldError;
    throw new SwitchyardError(
      "invalid_event",
      errors.length === 1
        ? `${first.pointer}: ${first.message}`
        : `${errors.length} deliverat attributes are invalid`,
      { errors },
    );
  }
  return any ? times : null;
}
