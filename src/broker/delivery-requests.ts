import { decodeAckId } from "../core/ack-id.js";
import { LIMITS } from "../core/config.js";
import { type Filter, parseFilter } from "../core/filter.js";
import type { StartPosition } from "../core/positions.js";
import type { RedriveRequest } from "../engine/engine.js";
import {
  bodyObject,
  FieldErrors,
  type JsonObject,
  readBoolean,
  readInt,
  readString,
  rejectUnknown,
} from "./fields.js";
import { REDRIVE_PACING_FIELDS } from "./redrive-pacing.js";
import { parseStartPosition } from "./start-position.js";

export type SettleOp = "ack" | "nack" | "extend" | "reject";

export interface SettleRequest {
  readonly op: SettleOp;
  readonly ackIds: readonly string[];
  readonly delayMs: number | null;
  readonly leaseMs: number | undefined;
  readonly reason: string;
}

export interface PullRequest {
  readonly max: number;
  readonly waitMs: number;
}

export const MAX_ACK_IDS = 10_000;
export const DELAY_BOUNDS = { min: 0, max: 7 * 86_400_000 } as const;
export const LEASE_BOUNDS = { min: 10, max: 12 * 3_600_000 } as const;
const MAX_REASON = 1_000;

const SETTLE_FIELDS: Record<SettleOp, ReadonlySet<string>> = {
  ack: new Set(["ackIds"]),
  nack: new Set(["ackIds", "delayMs"]),
  extend: new Set(["ackIds", "leaseMs"]),
  reject: new Set(["ackIds", "reason"]),
};

/** Checks ackIds are strings this router could have issued; a bad one settles nothing. */
function readAckIds(input: JsonObject, errors: FieldErrors): string[] {
  const value = input.ackIds;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ACK_IDS) {
    errors.add("/ackIds", `must be an array of 1 to ${MAX_ACK_IDS} ackIds`);
    return [];
  }
  value.forEach((ackId, i) => {
    if (decodeAckId(ackId) === null)
      errors.add(`/ackIds/${i}`, "is not an ackId this router issued");
  });
  return value as string[];
}

/** The body of `/ack`, `/nack`, `/extend`, `/reject` (HTTP) or a settle frame (WebSocket). */
export function parseSettleRequest(
  op: SettleOp,
  body: unknown,
  extra: readonly string[] = [],
): SettleRequest {
  const input = bodyObject(body);
  const errors = new FieldErrors();
  rejectUnknown(input, new Set([...SETTLE_FIELDS[op], ...extra]), "", errors);
  const delayMs = op === "nack" ? readInt(input, "delayMs", "", DELAY_BOUNDS, errors) : undefined;
  const leaseMs = op === "extend" ? readInt(input, "leaseMs", "", LEASE_BOUNDS, errors) : undefined;
  const reason = op === "reject" ? readString(input, "reason", "", errors, MAX_REASON) : undefined;
  if (op === "reject" && input.reason === undefined) errors.add("/reason", "is required");
  errors.check();
  const ackIds = readAckIds(input, errors);
  const malformed = errors.list.some((e) => e.pointer.startsWith("/ackIds/"));
  errors.check(malformed ? "invalid_ack_id" : "invalid_request");
  return { op, ackIds, delayMs: delayMs ?? null, leaseMs, reason: reason ?? "" };
}

const PULL_FIELDS = new Set(["max", "waitMs"]);

export function parsePullRequest(body: unknown): PullRequest {
  const input = bodyObject(body);
  const errors = new FieldErrors();
  rejectUnknown(input, PULL_FIELDS, "", errors);
  const max = readInt(input, "max", "", { min: 1, max: LIMITS.pullMaxMax }, errors);
  const waitMs = readInt(input, "waitMs", "", { min: 0, max: LIMITS.pullWaitMaxMs }, errors);
  errors.check();
  return { max: max ?? LIMITS.pullMaxDefault, waitMs: waitMs ?? 0 };
}

export function parseSeekRequest(body: unknown): StartPosition {
  const input = bodyObject(body);
  const errors = new FieldErrors();
  rejectUnknown(input, new Set(["to"]), "", errors);
  if (input.to === undefined) errors.add("/to", "is required");
  const to = input.to === undefined ? undefined : parseStartPosition(input.to, "/to", errors);
  errors.check();
  return to ?? "latest";
}

const REDRIVE_FIELDS = new Set(["ids", "filter", "limit", "dryRun", ...REDRIVE_PACING_FIELDS]);
export const REDRIVE_LIMIT_BOUNDS = { min: 1, max: 10_000_000 } as const;

function readIds(input: JsonObject, errors: FieldErrors): string[] | undefined {
  const ids = input.ids;
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_ACK_IDS) {
    errors.add("/ids", `must be an array of 1 to ${MAX_ACK_IDS} event ids`);
    return undefined;
  }
  ids.forEach((id, i) => {
    if (typeof id !== "string" || id.length === 0)
      errors.add(`/ids/${i}`, "must be a non-empty string");
  });
  return ids as string[];
}

export function parseRedriveRequest(body: unknown): RedriveRequest {
  const input = bodyObject(body);
  const errors = new FieldErrors();
  rejectUnknown(input, REDRIVE_FIELDS, "", errors);
  const ids = readIds(input, errors);
  const limit = readInt(input, "limit", "", REDRIVE_LIMIT_BOUNDS, errors);
  const dryRun = readBoolean(input, "dryRun", "", errors);
  errors.check();
  const filter: Filter | undefined =
    input.filter === undefined || input.filter === null ? undefined : parseFilter(input.filter);
  return {
    ...(ids === undefined ? {} : { ids }),
    ...(filter === undefined ? {} : { filter }),
    ...(limit === undefined ? {} : { limit }),
    ...(dryRun === undefined ? {} : { dryRun }),
  };
}
