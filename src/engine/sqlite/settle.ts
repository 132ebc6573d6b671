/**
 * Settling deliveries (ack, nack, extend, reject), as one job per call. An ackId is
 * outstanding when its epoch is the subscription's, its row is leased and the row's lease
 * number is the ackId's; a lease that ran out but was not handed out again still counts.
 * Older epochs and superseded lease numbers are `expired`; anything else is `unknown`.
 *
 * A first lease held in memory (pending-leases.ts) is acked without any row statement: the
 * entry goes, and the ack floor saved with the cursor moves up. Every other operation on it
 * (and an ack naming another lease number) materializes it as its row first, then the row
 * logic below runs as it always did.
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
import { materialize, takePending } from "./pending-leases.js";
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
  materialize(s.tx, sub.id, parts.offset);
  const row = getDelivery(s.tx.db, sub.id, parts.offset);
  if (row === undefined || row.lease_no < parts.lease) return { status: "unknown" };
  if (row.lease_no > parts.lease) return { status: "expired" };
  if (row.state !== "leased") return { status: "unknown" };
  return { status: "ok", row };
}

/**
 * The common ack without a row (a pending first lease: its entry goes), or in one statement
 * (deletes the row only if the ackId is its current lease). The event's append time, or null
 * when the ack did not apply.
 */
function ackFast(s: Settle, parts: AckIdParts): number | null {
  const { tx, sub } = s;
  if (parts.epoch !== sub.epoch) return null;
  const held = tx.leases.peek(sub.id)?.get(parts.offset);
  if (held !== undefined) {
    if (held.leaseNo !== parts.lease) return null;
    takePending(tx, sub.id, parts.offset);
    promoteKey(tx, sub.id, held.key);
    sub.acked += 1;
    return held.appendedAt;
  }
  const deleted = tx.db.get<{ partition_key: string | null; appended_at: number }>(
    `DELETE FROM deliveries WHERE subscription_id = ? AND event_offset = ? AND lease_no = ?
        AND state = 'leased' RETURNING partition_key, appended_at`,
    sub.id,
    parts.offset,
    parts.lease,
  );
  if (deleted === undefined) return null;
  promoteKey(tx, sub.id, deleted.partition_key);
  sub.acked += 1;
  return deleted.appended_at;
}

function apply(s: Settle, row: DeliveryRow, op: SettleOp): void {
  const { tx, sub } = s;
  switch (op.kind) {
    case "ack":
      deleteDelivery(tx.db, sub.id, row.event_offset);
      promoteKey(tx, sub.id, row.partition_key);
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

/** An `ok` answer; an ack carries the event's append time from the row it deleted. */
function settled(ackId: string, op: SettleOp, appendedAt: number): Settled {
  return op.kind === "ack" && appendedAt > 0
    ? { ackId, status: "ok", appendedAt }
    : { ackId, status: "ok" };
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
    const fast = op.kind === "ack" && parts !== null ? ackFast(s, parts) : null;
    if (fast !== null) {
      changed = true;
      results.push(settled(ackId, op, fast));
      continue;
    }
    const { status, row } = check(s, parts);
    if (row !== undefined) {
      apply(s, row, op);
      changed = true;
      results.push(settled(ackId, op, row.appended_at));
      continue;
    }
    results.push({ ackId, status });
  }
  if (changed) {
    saveCursor(tx, sub);
    tx.afterCommit(() => ctx.subscriptionChanged(name));
  }
  return results;
}
