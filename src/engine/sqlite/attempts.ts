/**
 * The push attempt log: rows written by the settle job that the attempts settle, so the log
 * commits (or rolls back) with the delivery state it describes. Per subscription, rows carry
 * a sequence number; only the newest `ATTEMPT_LOG_LIMIT` are kept, and they go with the
 * subscription.
 */
import type { AttemptQuery, AttemptRecord } from "../engine.js";
import type { Db } from "./database.js";

/** Attempts kept per subscription (the seam promises at least 1,000). */
export const ATTEMPT_LOG_LIMIT = 10_000;

interface AttemptRow {
  [column: string]: unknown;
  event_id: string;
  event_offset: number;
  attempt: number;
  at: number;
  status: number | null;
  latency_ms: number;
  error: string | null;
  response: string | null;
}

const INSERT = `INSERT INTO push_attempts
  (subscription_id, seq, event_id, event_offset, attempt, at, status, latency_ms, error, response)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Appends `records` to the subscription's log and drops what falls beyond the limit. */
export function appendAttempts(
  db: Db,
  subscriptionId: number,
  records: readonly AttemptRecord[],
  limit = ATTEMPT_LOG_LIMIT,
): void {
  if (records.length === 0) return;
  let seq = db.value(
    "SELECT max(seq) FROM push_attempts WHERE subscription_id = ?",
    subscriptionId,
  );
  const insert = db.stmt(INSERT);
  for (const r of records) {
    seq += 1;
    insert.run(
      subscriptionId,
      seq,
      r.eventId,
      r.offset,
      r.attempt,
      r.at,
      r.status,
      Math.round(r.latencyMs),
      r.error,
      r.response,
    );
  }
  db.run(
    "DELETE FROM push_attempts WHERE subscription_id = ? AND seq <= ?",
    subscriptionId,
    seq - limit,
  );
}

export function deleteAttempts(db: Db, subscriptionId: number): void {
  db.run("DELETE FROM push_attempts WHERE subscription_id = ?", subscriptionId);
}

export function readAttempts(db: Db, subscriptionId: number, query: AttemptQuery): AttemptRecord[] {
  const rows =
    query.eventId === undefined
      ? db.all<AttemptRow>(
          "SELECT * FROM push_attempts WHERE subscription_id = ? ORDER BY seq DESC LIMIT ?",
          subscriptionId,
          query.limit,
        )
      : db.all<AttemptRow>(
          "SELECT * FROM push_attempts WHERE subscription_id = ? AND event_id = ? ORDER BY seq DESC LIMIT ?",
          subscriptionId,
          query.eventId,
          query.limit,
        );
  return rows.map((row) => ({
    eventId: row.event_id,
    offset: row.event_offset,
    attempt: row.attempt,
    at: row.at,
    status: row.status,
    latencyMs: row.latency_ms,
    error: row.error,
    response: row.response,
  }));
}
