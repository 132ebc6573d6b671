/**
 * Seek moves one subscription: its deliveries (leased, waiting, blocked, redriven) are
 * cleared, its epoch moves on so every outstanding ackId becomes `expired`, and its position
 * is set. Other subscriptions of the topic are untouched. First leases held in memory
 * (pending-leases.ts) are forgotten with the rows.
 */
import type { StartPosition } from "../../core/positions.js";
import type { EngineContext } from "./context.js";
import { subscriptionNotFound, topicNotFound } from "./errors.js";
import type { JobTx } from "./job-tx.js";
import { dropPending } from "./pending-leases.js";
import { resolveStart } from "./start-position.js";
import { loadSubscription, saveCursor } from "./subscription-state.js";

export function seekJob(tx: JobTx, ctx: EngineContext, name: string, to: StartPosition): number {
  const sub = loadSubscription(tx.db, name);
  if (sub === null) throw subscriptionNotFound(name);
  const topic = tx.topic(sub.topic);
  if (topic === null) throw topicNotFound(sub.topic);
  const position = resolveStart(tx.db, topic, to);
  tx.db.run("DELETE FROM deliveries WHERE subscription_id = ?", sub.id);
  dropPending(tx, sub.id);
  sub.position = position;
  sub.epoch += 1;
  saveCursor(tx, sub);
  tx.afterCommit(() => ctx.subscriptionChanged(name));
  return position;
}
