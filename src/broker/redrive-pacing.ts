import type { Actor } from "./audit.js";
import { bodyObject, FieldErrors, readInt, readNumber, readString } from "./fields.js";

/**
 * How a redrive moves its events, and who asked for it: in chunks (so a million dead letters
 * never sit in memory at once), at most `ratePerSecond` events a second (so the endpoint is
 * not flooded), recorded with `actor` in the audit topic.
 */
export interface RedrivePacing {
  /** Events moved per engine call. */
  readonly chunkSize: number;
  /** Events per second at most; null: as fast as the engine moves them. */
  readonly ratePerSecond: number | null;
}

/** Who asked: the client's claim (`actor`) and what the server saw (`key`: the request's). */
export interface RedriveOrigin {
  readonly actor: string | null;
  readonly key?: Actor;
  readonly remoteAddress?: string;
  readonly userAgent?: string;
}

export const REDRIVE_PACING_FIELDS = ["chunkSize", "ratePerSecond", "actor"] as const;
export const REDRIVE_CHUNK = { default: 1_000, min: 1, max: 10_000 } as const;

/** Reads the pacing fields of a redrive body (the rest is `parseRedriveRequest`'s). */
export function parseRedrivePacing(body: unknown): { pacing: RedrivePacing; actor: string | null } {
  const input = bodyObject(body);
  const errors = new FieldErrors();
  const chunkSize = readInt(input, "chunkSize", "", REDRIVE_CHUNK, errors);
  const rate = readNumber(input, "ratePerSecond", "", { min: 0.001, max: 10_000_000 }, errors);
  const actor = readString(input, "actor", "", errors, 200);
  errors.check();
  return {
    pacing: { chunkSize: chunkSize ?? REDRIVE_CHUNK.default, ratePerSecond: rate ?? null },
    actor: actor ?? null,
  };
}
