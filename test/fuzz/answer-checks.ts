/**
 * What every answer of the router must be, whatever it was sent: never a 5xx, and every
 * error an RFC 9457 problem with a catalogue `code` whose status it carries.
 */
import { ERROR_CATALOGUE } from "../../src/core/errors.js";
import type { RawResponse } from "./raw-http.js";

/** Why `response` breaks the contract, or null when it does not. */
export function contractBreach(
  response: RawResponse,
  allowUpgrade: boolean,
  head = false,
): string | null {
  const { status, headers } = response;
  if (status >= 500) return `a ${status} answer`;
  if (status === 101) return allowUpgrade ? null : "a 101 outside the WebSocket route";
  if (status < 200 || (status >= 300 && status < 400)) return `an unexpected ${status} answer`;
  if (status < 400) return null;
  const type = headers["content-type"] ?? "";
  if (!type.startsWith("application/problem+json"))
    return `a ${status} answer of type ${JSON.stringify(type)}, not application/problem+json`;
  // An answer to HEAD has no body: its type is all there is to check.
  if (head) return null;
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(response.body.toString("utf8"));
  } catch {
    return `a ${status} problem whose body is not JSON`;
  }
  const code = problem.code;
  if (typeof code !== "string" || !(code in ERROR_CATALOGUE))
    return `a problem whose code ${JSON.stringify(code)} is not in the catalogue`;
  const spec = ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE];
  if (spec.status !== status || problem.status !== status)
    return `code ${code} is ${spec.status} in the catalogue, answered ${status} (body ${String(problem.status)})`;
  for (const field of ["type", "title", "detail"])
    if (typeof problem[field] !== "string") return `a problem without a string ${field}`;
  if (!Array.isArray(problem.errors)) return "a problem without errors[]";
  return null;
}

/** The same for a problem carried in a WebSocket error frame. */
export function problemBreach(problem: unknown): string | null {
  if (typeof problem !== "object" || problem === null) return "an error frame without a problem";
  const p = problem as Record<string, unknown>;
  if (typeof p.code !== "string" || !(p.code in ERROR_CATALOGUE))
    return `an error frame whose code ${JSON.stringify(p.code)} is not in the catalogue`;
  if (typeof p.status !== "number" || p.status >= 500)
    return `an error frame with status ${String(p.status)}`;
  return null;
}
