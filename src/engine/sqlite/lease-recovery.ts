/**
 * Reopening after a crash: first leases held in memory (pending-leases.ts) died with the
 * process, but the offsets they held were saved with the cursor by the last job that changed
 * them (`ack_floor` and `held`). Exactly those are taken as leased: a 'leased' row each,
 * attempt 1, due `ackTimeoutMs` after the reopen (a consumer may still be working on it; under
 * key ordering the key stays held that long, so per-key order survives the crash), then
 * redelivered as attempt 2 through the normal path. Nothing acked is delivered again.
 *
 * An offset saved as held may have become a row since (then the row stands) or lost its event
 * to retention (then there is nothing to deliver); both are skipped. The recovered rows get
 * fresh lease numbers, so an ackId from before the crash is `expired`. A clean close
 * materializes every entry first (closeLeasesJob), with its own lease number: after it a
 * restart is exact and old ackIds still settle.
 */
import type { Db } from "./database.js";
import { insertDelivery } from "./delivery-rows.js";
import { readEvent } from "./events.js";
import type { JobTx } from "./job-tx.js";
import { decodeHeld, materializeBelow } from "./pending-leases.js";
import { loadSubscriptions, type SubscriptionState } from "./subscription-state.js";
import { loadTopicById } from "./topic-state.js";

interface Held extends Record<string, unknown> {
  subscription_id: number;
  ack_floor: number;
  held: Uint8Array;
}

function recoverOne(db: Db, sub: SubscriptionState, held: Held, now: number): void {
  const topic = loadTopicById(db, sub.topicId);
  let counter = sub.leaseCounter;
  const dueAt = now + sub.config.ackTimeoutMs;
  for (const offset of decodeHeld(held.held, held.ack_floor)) {
    if (topic === null) break;
    const record = readEvent(db, topic.id, topic.name, offset);
    if (record === null) continue;
    const key = sub.config.ordering === "key" ? record.key : null;
    if (insertDelivery(db, sub.id, offset, key, "leased", 1, counter + 1, dueAt, record.appendedAt))
      counter += 1;
  }
  db.run(
    `UPDATE subscriptions SET ack_floor = position, held = NULL, lease_counter = ?
      WHERE subscription_id = ?`,
    counter,
    sub.id,
  );
}

/** Runs once when the store opens, before any job: see the module comment. */
export function recoverLeases(db: Db, now: number): void {
  const held = db.all<Held>(
    "SELECT subscription_id, ack_floor, held FROM subscriptions WHERE held IS NOT NULL",
  );
  if (held.length === 0) return;
  const subs = new Map(loadSubscriptions(db).map((s) => [s.id, s]));
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const one of held) {
      const sub = subs.get(one.subscription_id);
      if (sub !== undefined) recoverOne(db, sub, one, now);
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** The last job of a clean close: every held first lease becomes its row (an exact restart). */
export function closeLeasesJob(tx: JobTx): void {
  for (const subId of tx.leases.subscriptions()) {
    materializeBelow(tx, subId);
    tx.db.run(
      "UPDATE subscriptions SET ack_floor = position, held = NULL WHERE subscription_id = ?",
      subId,
    );
  }
}
