/**
 * Settling deliveries (ack, nack, extend, reject), as one job per call. An ackId is
 * outstanding when its epoch is the subscription's, its row is leased and the row's lease
 * number is the ackId's; a lease that ran out but was not handed out again still counts.
 * Older epochs and superseded lease numbers are `expired`; anything else is `unknown`.
 */
import { type AckIdParts, decodeAckId } from "../../core/ack-id.js";
import type { AttemptRecord, Settled, SettleStatus } from "../engine.js";
import { appendAttempts } from "./attempts.js";
import { backoffDelayMs } from "./backoff.js";
import type { EngineContext } from "./context.js";
import { deadLetter, MAX_ATTEMPTS_REASON } from "./dead-letter.js";
import {
  type DeliveryRow,
  deleteDelivery,
  getDelivery,
  markWaiting,
  setDueAt,
} from "./delivery-rows.js";
import { subscriptionNotFound, topicNotFound } from "./errors.js";
import type { JobTx } from "./job-tx.js";
import { promoteKey } from "./key-order.js";
import { eventKeySql } from "./schema.js";
import {
  firstEpochOf,
  loadSubscription,
  type SubscriptionState,
  saveCursor,
} from "./subscription-state.js";
import type { TopicState } from "./topic-state.js";

export type SettleOp =
  | { readonly kind: "ack" }
  | { readonly kind: "nack"; readonly delayMs: number | null }
  | { readonly kind: "extend"; readonly leaseMs: number | undefined }
  | { readonly kind: "reject"; readonly reason: string };

export interface Settle {
  readonly tx: JobTx;
  readonly ctx: EngineContext;
  readonly sub: SubscriptionState;
  readonly topic: TopicState;
}

/** Whether an ackId names an outstanding delivery (see the module comment), and its row. */
export function check(
  s: Settle,
  parts: AckIdParts | null,
): { status: SettleStatus; row?: DeliveryRow } {
  const { sub } = s;
  if (
    parts === null ||
    parts.epoch > sub.epoch ||
    parts.epoch < firstEpochOf(sub) ||
    parts.lease > sub.leaseCounter
  )
    return { status: "unknown" };
  if (parts.epoch < sub.epoch) return { status: "expired" };
  const row = getDelivery(s.tx.db, sub.id, parts.offset);
  if (row === undefined || row.lease_no < parts.lease) return { status: "unknown" };
  if (row.lease_no > parts.lease) return { status: "expired" };
  if (row.state !== "leased") return { status: "unknown" };
  return { status: "ok", row };
}

/** The common ack in one statement: deletes the row only if the ackId is its current lease. */
function ackFast(s: Settle, parts: AckIdParts): boolean {
  const { tx, sub } = s;
  if (parts.epoch !== sub.epoch) return false;
  const deleted = tx.db.get<{ partition_key: string | null }>(
    `DELETE FROM deliveries WHERE subscription_id = ? AND event_offset = ? AND lease_no = ?
        AND state = 'leased' RETURNING partition_key`,
    sub.id,
    parts.offset,
    parts.lease,
  );
  if (deleted === undefined) return false;
  promoteKey(tx.db, sub.id, deleted.partition_key, tx.now);
  sub.acked += 1;
  return true;
}

function apply(s: Settle, row: DeliveryRow, op: SettleOp): void {
  const { tx, sub } = s;
  switch (op.kind) {
    case "ack":
      deleteDelivery(tx.db, sub.id, row.event_offset);
      promoteKey(tx.db, sub.id, row.partition_key, tx.now);
      sub.acked += 1;
      return;
    case "nack": {
      if (row.attempt >= sub.config.maxAttempts) {
        deadLetter(tx, s.ctx, sub, s.topic, row, MAX_ATTEMPTS_REASON);
        return;
      }
      const delay = op.delayMs ?? backoffDelayMs(sub.config.backoff, row.attempt, s.ctx.random);
      markWaiting(tx.db, sub.id, row.event_offset, tx.now + Math.max(0, delay));
      return;
    }
    case "extend":
      setDueAt(tx.db, sub.id, row.event_offset, tx.now + (op.leaseMs ?? sub.config.ackTimeoutMs));
      return;
    case "reject":
      deadLetter(tx, s.ctx, sub, s.topic, row, op.reason);
      return;
  }
}

const APPENDED_AT = `SELECT appended_at FROM events WHERE event_key = ${eventKeySql("?", "?")}`;

/** An `ok` answer; an ack carries the event's append time (a primary-key read) when kept. */
function settled(s: Settle, ackId: string, offset: number, op: SettleOp): Settled {
  if (op.kind !== "ack") return { ackId, status: "ok" };
  const row = s.tx.db.get<{ appended_at: number }>(APPENDED_AT, s.topic.id, offset);
  return row === undefined
    ? { ackId, status: "ok" }
    : { ackId, status: "ok", appendedAt: row.appended_at };
}

export function settleJob(
  tx: JobTx,
  ctx: EngineContext,
  name: string,
  ackIds: readonly string[],
  op: SettleOp,
  attempts: readonly AttemptRecord[] = [],
): Settled[] {
  const sub = loadSubscription(tx.db, name);
  if (sub === null) throw subscriptionNotFound(name);
  appendAttempts(tx.db, sub.id, attempts);
  const topic = tx.topic(sub.topic);
  if (topic === null) throw topicNotFound(sub.topic);
  const s: Settle = { tx, ctx, sub, topic };
  const results: Settled[] = [];
  let changed = false;
  for (const ackId of ackIds) {
    const parts = decodeAckId(ackId);
    if (op.kind === "ack" && parts !== null && ackFast(s, parts)) {
      changed = true;
      results.push(settled(s, ackId, parts.offset, op));
      continue;
    }
    const { status, row } = check(s, parts);
    if (row !== undefined) {
      apply(s, row, op);
      changed = true;
      results.push(settled(s, ackId, row.event_offset, op));
      continue;
    }
    results.push({ ackId, status });
  }
  if (changed) {
    saveCursor(tx.db, sub);
    tx.afterCommit(() => ctx.subscriptionChanged(name));
  }
  return results;
}
