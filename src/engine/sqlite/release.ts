/**
 * Releasing deliveries no client received, as one job: the row goes back to 'waiting', due
 * now, with the attempt it used taken back, so the next lease hands it out under the same
 * attempt number. The row keeps its key (the released event is still the key's next), and
 * `delivered` drops by one.
 */
import { decodeAckId } from "../../core/ack-id.js";
import type { Settled } from "../engine.js";
import type { EngineContext } from "./context.js";
import { subscriptionNotFound, topicNotFound } from "./errors.js";
import type { JobTx } from "./job-tx.js";
import { check } from "./settle.js";
import { loadSubscription, saveCursor } from "./subscription-state.js";

export function releaseJob(
  tx: JobTx,
  ctx: EngineContext,
  name: string,
  ackIds: readonly string[],
): Settled[] {
  const sub = loadSubscription(tx.db, name);
  if (sub === null) throw subscriptionNotFound(name);
  const topic = tx.topic(sub.topic);
  if (topic === null) throw topicNotFound(sub.topic);
  const s = { tx, ctx, sub, topic };
  const results: Settled[] = [];
  for (const ackId of ackIds) {
    const { status, row } = check(s, decodeAckId(ackId));
    if (row !== undefined) {
      tx.db.run(
        `UPDATE deliveries SET state = 'waiting', attempt = max(0, attempt - 1), due_at = ?
          WHERE subscription_id = ? AND event_offset = ?`,
        tx.now,
        sub.id,
        row.event_offset,
      );
      sub.delivered = Math.max(0, sub.delivered - 1);
    }
    results.push({ ackId, status });
  }
  if (results.some((r) => r.status === "ok")) {
    saveCursor(tx, sub);
    tx.afterCommit(() => ctx.subscriptionChanged(name));
  }
  return results;
}
