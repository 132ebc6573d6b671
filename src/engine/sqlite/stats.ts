/** Topic and subscription stats, from running counters and index lookups (never a scan of the log). */
import type { SubscriptionStats, TopicStats } from "../engine.js";
import { indexStats } from "./correlation-index.js";
import type { Db } from "./database.js";
import { countInFlight } from "./delivery-rows.js";
import { subscriptionNotFound, topicNotFound } from "./errors.js";
import { readEvent } from "./events.js";
import type { LeaseMemory } from "./pending-leases.js";
import { OFFSET_BITS } from "./schema.js";
import { subjectIndexStats } from "./subject-index.js";
import { loadSubscription } from "./subscription-state.js";
import { loadTopic, loadTopicById, type TopicState } from "./topic-state.js";

export function topicStats(db: Db, name: string): TopicStats {
  const topic = loadTopic(db, name);
  if (topic === null) throw topicNotFound(name);
  return {
    events: topic.eventCount,
    bytes: topic.byteCount,
    firstOffset: topic.firstOffset,
    lastOffset: topic.lastOffset,
    ...indexesOf(db, topic),
  };
}

function indexesOf(db: Db, topic: TopicState): Pick<TopicStats, "indexes"> {
  const correlationid = indexStats(db, topic);
  const subject = subjectIndexStats(topic);
  if (correlationid === undefined && subject === undefined) return {};
  return {
    indexes: {
      ...(subject === undefined ? {} : { subject }),
      ...(correlationid === undefined ? {} : { correlationid }),
    },
  };
}

function oldestUnackedAgeMs(
  db: Db,
  subId: number,
  topicId: number,
  topic: string,
  now: number,
  held: number | undefined,
): number {
  const oldest = db.get<{ offset: number | null }>(
    "SELECT min(event_offset) AS offset FROM deliveries WHERE subscription_id = ? AND attempt > 0",
    subId,
  );
  const row = oldest?.offset ?? undefined;
  const offset = row === undefined ? held : held === undefined ? row : Math.min(row, held);
  if (offset === undefined) return 0;
  const record = readEvent(db, topicId, topic, offset);
  return record === null ? 0 : Math.max(0, now - record.appendedAt);
}

/** `leases`: first leases held in memory (pending-leases.ts) count as rows would. */
export function subscriptionStats(
  db: Db,
  leases: LeaseMemory,
  name: string,
  now: number,
): SubscriptionStats {
  const sub = loadSubscription(db, name);
  if (sub === null) throw subscriptionNotFound(name);
  const topic = loadTopicById(db, sub.topicId);
  if (topic === null) throw topicNotFound(sub.topic);
  const unread = Math.max(0, topic.lastOffset - Math.max(sub.position, topic.firstOffset) + 1);
  const held = leases.peek(sub.id);
  const rows = db.value("SELECT count(*) FROM deliveries WHERE subscription_id = ?", sub.id);
  return {
    position: sub.position,
    lag: unread + rows + (held?.size ?? 0),
    inFlight: countInFlight(db, sub.id, now) + (held?.inFlight(now) ?? 0),
    delivered: sub.delivered,
    acked: sub.acked,
    deadLettered: sub.deadLettered,
    oldestUnackedAgeMs: oldestUnackedAgeMs(db, sub.id, topic.id, topic.name, now, held?.lowest()),
  };
}

/**
 * Dead letters not yet redriven whose copy is still stored: what a redrive would find (see
 * redrive.ts). Reads this subscription's rows of `dead_letters` through its index.
 */
export function deadLetterDepth(db: Db, name: string): number {
  const sub = loadSubscription(db, name);
  if (sub === null) throw subscriptionNotFound(name);
  return db.value(
    `SELECT count(*) FROM dead_letters d
       JOIN events e ON e.event_key = (d.dead_letter_topic_id << ${OFFSET_BITS}) + d.dead_letter_offset
      WHERE d.subscription_id = ? AND d.redriven_at IS NULL`,
    sub.id,
  );
}
