/** Subscription catalog writes: create/update keeps cursors; delete drops their state. */
import type { SubscriptionConfig } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
import { deleteAttempts } from "./attempts.js";
import { topicNotFound } from "./errors.js";
import type { JobTx } from "./job-tx.js";
import { dropPending } from "./pending-leases.js";
import { resolveStart } from "./start-position.js";
import { EPOCH_SPACING, loadSubscription } from "./subscription-state.js";

export function putSubscriptionJob(
  tx: JobTx,
  config: SubscriptionConfig,
  onChange: (sub: string) => void,
): { readonly created: boolean } {
  const topic = tx.topic(config.topic);
  if (topic === null) throw topicNotFound(config.topic);
  if (tx.topic(config.deadLetterTopic) === null) throw topicNotFound(config.deadLetterTopic);
  const existing = loadSubscription(tx.db, config.name);
  const text = JSON.stringify(config);
  if (existing === null) {
    tx.db.run(
      `INSERT INTO subscriptions (name, topic_id, dead_letter_topic, config, position, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      config.name,
      topic.id,
      config.deadLetterTopic,
      text,
      resolveStart(tx.db, topic, config.start),
      tx.now,
    );
    tx.db.run(
      `UPDATE subscriptions SET epoch = subscription_id * ${EPOCH_SPACING} WHERE name = ?`,
      config.name,
    );
    return { created: true };
  }
  if (existing.topicId !== topic.id)
    throw new SwitchyardError(
      "subscription_topic_changed",
      `subscription ${config.name} reads ${existing.topic}; its topic cannot change to ${config.topic}`,
    );
  tx.db.run(
    "UPDATE subscriptions SET config = ?, dead_letter_topic = ? WHERE subscription_id = ?",
    text,
    config.deadLetterTopic,
    existing.id,
  );
  if (existing.config.ordering === "key" && config.ordering !== "key") {
    // Without key ordering nothing waits behind its key any more.
    tx.db.run(
      `UPDATE deliveries SET state = 'waiting', due_at = ?
        WHERE subscription_id = ? AND state = 'blocked'`,
      tx.now,
      existing.id,
    );
  }
  tx.afterCommit(() => onChange(config.name));
  return { created: false };
}

export function deleteSubscriptionJob(
  tx: JobTx,
  name: string,
  onChange: (sub: string) => void,
): boolean {
  const existing = loadSubscription(tx.db, name);
  if (existing === null) return false;
  tx.db.run("DELETE FROM deliveries WHERE subscription_id = ?", existing.id);
  dropPending(tx, existing.id);
  tx.db.run("DELETE FROM dead_letters WHERE subscription_id = ?", existing.id);
  deleteAttempts(tx.db, existing.id);
  tx.db.run("DELETE FROM subscriptions WHERE subscription_id = ?", existing.id);
  tx.afterCommit(() => onChange(name));
  return true;
}
