/**
 * Per-key ordering: under `ordering: "key"` at most one delivery of a key is active (leased or
 * waiting); later events of the key wait as 'blocked' rows, in offset order. When the active
 * one leaves (acked, dead-lettered, dropped), the lowest blocked row of the key is promoted.
 */
import type { Db } from "./database.js";

/** True when the key already has a delivery row (active or blocked). */
export function keyBusy(db: Db, subId: number, key: string): boolean {
  return (
    db.get(
      "SELECT 1 AS busy FROM deliveries WHERE subscription_id = ? AND partition_key = ? LIMIT 1",
      subId,
      key,
    ) !== undefined
  );
}

/** After a row of `key` left: hands the key to its next blocked event, if none is active. */
export function promoteKey(db: Db, subId: number, key: string | null, now: number): void {
  if (key === null) return;
  const active = db.get(
    `SELECT 1 AS active FROM deliveries WHERE subscription_id = ? AND partition_key = ?
        AND state IN ('leased', 'waiting') LIMIT 1`,
    subId,
    key,
  );
  if (active !== undefined) return;
  db.run(
    `UPDATE deliveries SET state = 'waiting', due_at = ?1
      WHERE subscription_id = ?2 AND event_offset = (
        SELECT event_offset FROM deliveries
         WHERE subscription_id = ?2 AND partition_key = ?3 AND state = 'blocked'
         ORDER BY event_offset LIMIT 1)`,
    now,
    subId,
    key,
  );
}
