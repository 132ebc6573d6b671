/**
 * Dead-lettering, inside the caller's job: the copy is appended to the subscription's
 * dead-letter topic (dedupe skipped), recorded in `dead_letters` for redrive, and the
 * delivery removed, all in one transaction with the cursor change that caused it.
 */
import { TOPIC_DEFAULTS } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
import { appendToTopic } from "./append.js";
import type { EngineContext } from "./context.js";
import { type DeliveryRow, deleteDelivery, deliveryRecord } from "./delivery-rows.js";
import type { JobTx } from "./job-tx.js";
import { promoteKey } from "./key-order.js";
import type { SubscriptionState } from "./subscription-state.js";
import type { TopicState } from "./topic-state.js";
import { putTopicJob } from "./topics.js";

export const MAX_ATTEMPTS_REASON = "max attempts exceeded";

/** The dead-letter topic, re-created with defaults (router-owned) if someone deleted it. */
function deadLetterTopic(tx: JobTx, name: string): TopicState {
  const existing = tx.topic(name);
  if (existing !== null) return existing;
  putTopicJob(tx, {
    name,
    retention: {},
    dedupeWindowMs: TOPIC_DEFAULTS.dedupeWindowMs,
    maxEventBytes: TOPIC_DEFAULTS.maxEventBytes,
    owner: "router",
  });
  const created = tx.topic(name);
  if (created === null)
    throw new SwitchyardError("internal", `dead-letter topic ${name} could not be created`);
  return created;
}

function appendedOffset(
  result: { offset: number } | { error: SwitchyardError } | undefined,
): number {
  if (result === undefined || !("offset" in result))
    throw new SwitchyardError("internal", "dead-letter append failed");
  return result.offset;
}

export function deadLetter(
  tx: JobTx,
  ctx: EngineContext,
  sub: SubscriptionState,
  topic: TopicState,
  row: DeliveryRow,
  reason: string,
): void {
  const record = deliveryRecord(tx.db, topic, row);
  deleteDelivery(tx.db, sub.id, row.event_offset);
  promoteKey(tx, sub.id, row.partition_key);
  if (record === null) return; // retention removed the event: there is nothing to keep
  const event = JSON.parse(record.body) as Record<string, unknown>;
  event.deadletterreason = reason;
  event.deadlettersubscription = sub.name;
  event.deadletterattempts = row.attempt;
  event.deadletteroffset = row.event_offset;
  const dlq = deadLetterTopic(tx, sub.config.deadLetterTopic);
  const id = String(event.id);
  const [result] = appendToTopic(
    tx,
    dlq,
    [{ id, source: String(event.source), key: record.key, body: JSON.stringify(event) }],
    { dedupe: false, onStored: ctx.topicChanged },
  );
  tx.db.run(
    `INSERT INTO dead_letters (dead_letter_topic_id, dead_letter_offset, subscription_id,
       topic_id, event_offset, event_appended_at, event_id, partition_key, reason, attempts,
       dead_lettered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    dlq.id,
    appendedOffset(result),
    sub.id,
    topic.id,
    row.event_offset,
    record.appendedAt,
    id,
    record.key,
    reason,
    row.attempt,
    tx.now,
  );
  sub.deadLettered += 1;
}
