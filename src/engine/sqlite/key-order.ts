/**
 * Per-key ordering: under `ordering: "key"` at most one delivery of a key is active (leased or
 * waiting); later events of the key wait as 'blocked' rows, in offset order. When the active
 * one leaves (acked, dead-lettered, dropped), the lowest blocked row of the key is promoted.
 * A first lease held in memory (pending-leases.ts) is an active delivery of its key too.
 */
import type { JobTx } from "./job-tx.js";

/** True when the key already has a delivery (a row, active or blocked, or a pending lease). */
export function keyBusy(tx: JobTx, subId: number, key: string): boolean {
  if (tx.leases.peek(subId)?.hasKey(key) === true) return true;
  return (
    tx.db.get(
      "SELECT 1 AS busy FROM deliveries WHERE subscription_id = ? AND partition_key = ? LIMIT 1",
      subId,
      key,
    ) !== undefined
  );
}

/** After a row of `key` left: hands the key to its next blocked event, if none is active. */
export function promoteKey(tx: JobTx, subId: number, key: string | null): void {
  if (key === null || tx.leases.peek(subId)?.hasKey(key) === true) return;
  const { db, now } = tx;
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
