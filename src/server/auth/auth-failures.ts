/**
 * Which answers count in `switchyard_auth_failures_total`: the 401s and 403s of the access
 * checks, by their problem `code`. Counted where every problem is answered (the server's
 * error handler), so no check that throws one can be missed.
 */
import type { AuthFailureReason } from "../metrics.js";

const REASONS: ReadonlyMap<string, AuthFailureReason> = new Map([
  ["unauthenticated", "unauthenticated"],
  ["forbidden", "forbidden"],
  ["csrf_failed", "csrf_failed"],
]);

/** The reason label of a refused request, or null when the answer is no auth failure. */
export function authFailureReason(status: number, code: string): AuthFailureReason | null {
  if (status !== 401 && status !== 403) return null;
  return REASONS.get(code) ?? null;
}
