/**
 * The deliveries table: one row per event of a subscription handed out and not yet acked, or
 * waiting its turn. `state` is 'leased' (due_at = lease expiry), 'waiting' (due_at = when it
 * may be handed out: nack delay, promoted from blocked, redriven) or 'blocked' (behind an
 * earlier event of its key under key ordering). `partition_key` is stored only for
 * subscriptions ordered by key, so the key index holds nothing for the others.
 *
 * A first lease is not a row here until something other than its ack happens to it: it is
 * held in memory (pending-leases.ts), and the queries below see only rows. Callers that count
 * or look for deliveries (in flight, due, a busy key, stats) add the held leases themselves.
 */
import type { LogRecord } from "../../core/stored-event.js";
import type { Db } from "./database.js";
import { readEvent } from "./events.js";
import { loadTopicById, type TopicState } from "./topic-state.js";

export type DeliveryState = "leased" | "waiting" | "blocked";

export interface DeliveryRow extends Record<string, unknown> {
  event_offset: number;
  partition_key: string | null;
  state: DeliveryState;
  attempt: number;
  lease_no: number;
  due_at: number;
  dead_letter_topic_id: number | null;
  dead_letter_offset: number | null;
  /** The event's append time; 0 on rows older than the column. */
  appended_at: number;
}

const COLUMNS = `event_offset, partition_key, state, attempt, lease_no, due_at,
  dead_letter_topic_id, dead_letter_offset, appended_at`;

export function getDelivery(db: Db, subId: number, offset: number): DeliveryRow | undefined {
  return db.get<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries WHERE subscription_id = ? AND event_offset = ?`,
    subId,
    offset,
  );
}

/** Due rows: expired leases and waiting rows whose time has come, oldest due first. */
export function dueDeliveries(db: Db, subId: number, now: number, limit: number): DeliveryRow[] {
  return db.all<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries
      WHERE subscription_id = ? AND state IN ('leased', 'waiting') AND due_at <= ?
      ORDER BY due_at, event_offset LIMIT ?`,
    subId,
    now,
    limit,
  );
}

/** Whether any row is due now (what `dueDeliveries` would return first). */
export function hasDueDeliveries(db: Db, subId: number, now: number): boolean {
  return (
    db.get(
      `SELECT 1 AS due FROM deliveries
        WHERE subscription_id = ? AND state IN ('leased', 'waiting') AND due_at <= ? LIMIT 1`,
      subId,
      now,
    ) !== undefined
  );
}

export function countInFlight(db: Db, subId: number, now: number): number {
  return db.value(
    `SELECT count(*) FROM deliveries WHERE subscription_id = ? AND state = 'leased' AND due_at > ?`,
    subId,
    now,
  );
}

/** When the next leased or waiting row becomes due, or null when none will. */
export function nextDueAt(db: Db, subId: number): number | null {
  const row = db.get<{ at: number | null }>(
    `SELECT min(due_at) AS at FROM deliveries
      WHERE subscription_id = ? AND state IN ('leased', 'waiting')`,
    subId,
  );
  return row?.at ?? null;
}

/** Inserts a row unless one exists for that offset; true when inserted. */
export function insertDelivery(
  db: Db,
  subId: number,
  offset: number,
  key: string | null,
  state: DeliveryState,
  attempt: number,
  leaseNo: number,
  dueAt: number,
  appendedAt: number,
): boolean {
  return (
    db.run(
      `INSERT INTO deliveries (subscription_id, event_offset, partition_key, state, attempt,
         lease_no, due_at, appended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      subId,
      offset,
      key,
      state,
      attempt,
      leaseNo,
      dueAt,
      appendedAt,
    ) > 0
  );
}

export function markLeased(
  db: Db,
  subId: number,
  offset: number,
  leaseNo: number,
  dueAt: number,
  appendedAt: number,
): void {
  db.run(
    `UPDATE deliveries SET state = 'leased', attempt = attempt + 1, lease_no = ?, due_at = ?,
       appended_at = ? WHERE subscription_id = ? AND event_offset = ?`,
    leaseNo,
    dueAt,
    appendedAt,
    subId,
    offset,
  );
}

export function markWaiting(db: Db, subId: number, offset: number, dueAt: number): void {
  db.run(
    `UPDATE deliveries SET state = 'waiting', due_at = ? WHERE subscription_id = ? AND event_offset = ?`,
    dueAt,
    subId,
    offset,
  );
}

export function setDueAt(db: Db, subId: number, offset: number, dueAt: number): void {
  db.run(
    "UPDATE deliveries SET due_at = ? WHERE subscription_id = ? AND event_offset = ?",
    dueAt,
    subId,
    offset,
  );
}

export function deleteDelivery(db: Db, subId: number, offset: number): void {
  db.run("DELETE FROM deliveries WHERE subscription_id = ? AND event_offset = ?", subId, offset);
}

const DEAD_LETTER_ATTRIBUTES = [
  "deadletterreason",
  "deadlettersubscription",
  "deadletterattempts",
  "deadletteroffset",
];

/**
 * The record a delivery hands out: the original event, or, for a redriven event whose
 * original retention already removed, its dead-letter copy without the deadletter* attributes.
 */
export function deliveryRecord(db: Db, topic: TopicState, row: DeliveryRow): LogRecord | null {
  const original = readEvent(db, topic.id, topic.name, row.event_offset);
  if (original !== null || row.dead_letter_topic_id === null || row.dead_letter_offset === null)
    return original;
  const dlq = loadTopicById(db, row.dead_letter_topic_id);
  const copy = dlq === null ? null : readEvent(db, dlq.id, dlq.name, row.dead_letter_offset);
  if (copy === null) return null;
  const event = JSON.parse(copy.body) as Record<string, unknown>;
  for (const name of DEAD_LETTER_ATTRIBUTES) delete event[name];
  const appendedAt = db.value(
    `SELECT event_appended_at FROM dead_letters
      WHERE dead_letter_topic_id = ? AND dead_letter_offset = ?`,
    row.dead_letter_topic_id,
    row.dead_letter_offset,
  );
  return {
    topic: topic.name,
    offset: row.event_offset,
    appendedAt: appendedAt || copy.appendedAt,
    key: copy.key,
    body: JSON.stringify(event),
  };
}
