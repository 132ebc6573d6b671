/**
 * Handing out deliveries, as one job: due redeliveries first (expired leases, elapsed nack
 * delays, promoted and redriven rows), then new events past the position. Non-matching events
 * are passed over (they count as acked); under key ordering an event whose key is busy is
 * parked as 'blocked' and the position still moves past it. Capped by `max` and by the
 * subscription's `maxInFlight` (leases that have not expired). `newOnly` skips the due rows:
 * the job then writes only first attempts and may commit unsynced (sqlite-cursors.ts).
 *
 * A first attempt writes no row: it is held in memory (pending-leases.ts), and the only
 * statement the job writes for it is the cursor (with the ack floor) it saves anyway. First
 * leases that ran out are materialized as rows when the job starts, so they are redelivered
 * by the due-row path like any other; the oldest are materialized when the floor falls more
 * than MAX_SPREAD offsets behind the position.
 */
import { encodeAckId } from "../../core/ack-id.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { Delivery } from "../engine.js";
import type { EngineContext } from "./context.js";
import { deadLetter, MAX_ATTEMPTS_REASON } from "./dead-letter.js";
import {
  countInFlight,
  type DeliveryRow,
  deleteDelivery,
  deliveryRecord,
  dueDeliveries,
  insertDelivery,
  markLeased,
  nextDueAt,
} from "./delivery-rows.js";
import { subscriptionNotFound, topicNotFound } from "./errors.js";
import type { JobTx } from "./job-tx.js";
import { keyBusy, promoteKey } from "./key-order.js";
import { addPending, boundSpread, materializeExpired } from "./pending-leases.js";
import { loadSubscription, type SubscriptionState, saveCursor } from "./subscription-state.js";
import type { TopicState } from "./topic-state.js";

/** Most new events one lease job looks at (a selective filter may pass over many). */
const SCAN_LIMIT = 5_000;

export interface LeaseOutcome {
  readonly deliveries: readonly Delivery[];
  /** When the next leased or waiting row falls due, if nothing was handed out. */
  readonly nextDueAt: number | null;
  /** The scan stopped at its limit: more new events can be looked at right away. */
  readonly more: boolean;
}

interface Lease {
  readonly tx: JobTx;
  readonly ctx: EngineContext;
  readonly sub: SubscriptionState;
  readonly topic: TopicState;
  readonly leaseMs: number;
  readonly cap: number;
  readonly out: Delivery[];
  finalDueAt: number;
}

function handOut(lease: Lease, record: LogRecord, attempt: number, leaseNo: number): void {
  const { sub } = lease;
  sub.delivered += 1;
  if (attempt >= sub.config.maxAttempts)
    lease.finalDueAt = Math.min(lease.finalDueAt, lease.tx.now + lease.leaseMs);
  lease.out.push({
    ackId: encodeAckId({ epoch: sub.epoch, offset: record.offset, lease: leaseNo }),
    attempt,
    record,
  });
}

function redeliver(lease: Lease, row: DeliveryRow): void {
  const { tx, sub, topic } = lease;
  if (row.attempt >= sub.config.maxAttempts) {
    deadLetter(tx, lease.ctx, sub, topic, row, MAX_ATTEMPTS_REASON);
    return;
  }
  const record = deliveryRecord(tx.db, topic, row);
  if (record === null) {
    // Retention removed the event: nothing left to deliver.
    deleteDelivery(tx.db, sub.id, row.event_offset);
    promoteKey(tx, sub.id, row.partition_key);
    return;
  }
  const leaseNo = ++sub.leaseCounter;
  markLeased(tx.db, sub.id, row.event_offset, leaseNo, tx.now + lease.leaseMs, record.appendedAt);
  handOut(lease, record, row.attempt + 1, leaseNo);
}

function takeDue(lease: Lease): void {
  const seen = new Set<number>();
  while (lease.out.length < lease.cap) {
    const rows = dueDeliveries(
      lease.tx.db,
      lease.sub.id,
      lease.tx.now,
      lease.cap - lease.out.length,
    ).filter((row) => !seen.has(row.event_offset));
    if (rows.length === 0) return;
    for (const row of rows) {
      seen.add(row.event_offset);
      redeliver(lease, row);
    }
  }
}

function takeNewOne(lease: Lease, record: LogRecord): void {
  const { tx, sub } = lease;
  sub.position = record.offset + 1;
  if (sub.matches !== null && !sub.matches(JSON.parse(record.body) as Record<string, unknown>))
    return;
  const key = sub.config.ordering === "key" ? record.key : null;
  if (key !== null && keyBusy(tx, sub.id, key)) {
    insertDelivery(tx.db, sub.id, record.offset, key, "blocked", 0, 0, 0, record.appendedAt);
    return;
  }
  // No row exists at or past the position (rows are only ever made below it), so the first
  // lease needs none: it is held in memory until it is acked or anything else happens to it.
  const leaseNo = ++sub.leaseCounter;
  const dueAt = tx.now + lease.leaseMs;
  addPending(tx, sub.id, record.offset, { leaseNo, dueAt, key, appendedAt: record.appendedAt });
  handOut(lease, record, 1, leaseNo);
}

/**
 * Rows to read for `need` more deliveries. Without a filter or key ordering every event read
 * is handed out, so exactly `need`; otherwise some are passed over or parked, and reading a
 * little ahead saves round trips.
 */
function readAhead(sub: SubscriptionState, need: number): number {
  return sub.matches === null && sub.config.ordering !== "key" ? need : Math.max(need, 64);
}

/** Returns true when the scan limit stopped it before the end of the log. */
function takeNew(lease: Lease): boolean {
  const { tx, sub, topic } = lease;
  let scanned = 0;
  while (lease.out.length < lease.cap && scanned < SCAN_LIMIT) {
    const from = Math.max(sub.position, topic.firstOffset);
    const want = Math.min(SCAN_LIMIT - scanned, readAhead(sub, lease.cap - lease.out.length));
    const records = tx.reads.range(tx.db, topic.id, topic.name, from, topic.lastOffset, want);
    if (records.length === 0) return false;
    for (const record of records) {
      if (lease.out.length >= lease.cap) break;
      takeNewOne(lease, record);
      scanned++;
    }
  }
  return scanned >= SCAN_LIMIT && sub.position <= topic.lastOffset;
}

/** When the next row or pending lease falls due, or null when none will. */
function earliestDue(tx: JobTx, subId: number): number | null {
  const row = nextDueAt(tx.db, subId);
  const held = tx.leases.peek(subId)?.nextDueAt() ?? null;
  if (row === null) return held;
  return held === null ? row : Math.min(row, held);
}

export function leaseJob(
  tx: JobTx,
  ctx: EngineContext,
  name: string,
  max: number,
  leaseMs: number | undefined,
  newOnly = false,
): LeaseOutcome {
  const sub = loadSubscription(tx.db, name);
  if (sub === null) throw subscriptionNotFound(name);
  const topic = tx.topic(sub.topic);
  if (topic === null) throw topicNotFound(sub.topic);
  materializeExpired(tx, sub.id);
  // Every pending lease left is in flight: the expired ones just became rows.
  const held = tx.leases.peek(sub.id)?.size ?? 0;
  const free = sub.config.maxInFlight - countInFlight(tx.db, sub.id, tx.now) - held;
  const lease: Lease = {
    tx,
    ctx,
    sub,
    topic,
    leaseMs: leaseMs ?? sub.config.ackTimeoutMs,
    cap: Math.max(0, Math.min(max, free)),
    out: [],
    finalDueAt: Number.POSITIVE_INFINITY,
  };
  let more = false;
  if (lease.cap > 0) {
    if (!newOnly) takeDue(lease);
    if (lease.out.length < lease.cap) more = takeNew(lease);
  }
  boundSpread(tx, sub.id, sub.position);
  saveCursor(tx, sub);
  if (Number.isFinite(lease.finalDueAt)) {
    const at = lease.finalDueAt;
    tx.afterCommit(() => ctx.sweepAt(name, at));
  }
  return {
    deliveries: lease.out,
    nextDueAt: lease.out.length === 0 ? earliestDue(tx, sub.id) : null,
    more,
  };
}
