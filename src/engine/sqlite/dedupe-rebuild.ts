/** Rebuilds the in-memory dedupe windows at open from the events still inside each window. */
import type { Db } from "./database.js";
import { DedupeIndex, dedupeHash } from "./dedupe-index.js";
import { offsetAtTime } from "./events.js";
import { eventKeySql, topicKeySql } from "./schema.js";
import type { TopicState } from "./topic-state.js";

interface IdentityRow extends Record<string, unknown> {
  offset: number;
  appended_at: number;
  source: string | null;
  id: string | null;
}

function rebuildOne(db: Db, topic: TopicState, now: number): DedupeIndex {
  const index = new DedupeIndex();
  if (topic.eventCount === 0) return index;
  const from = offsetAtTime(
    db,
    topic.id,
    topic.firstOffset,
    topic.lastOffset,
    now - topic.config.dedupeWindowMs,
  );
  const rows = db.iterate<IdentityRow>(
    `SELECT event_key - ${topicKeySql("?1")} AS offset, appended_at,
            json_extract(body, '$.source') AS source, json_extract(body, '$.id') AS id
       FROM events
      WHERE event_key BETWEEN ${eventKeySql("?1", "?2")} AND ${eventKeySql("?1", "?3")}
      ORDER BY event_key`,
    topic.id,
    from,
    topic.lastOffset,
  );
  for (const row of rows) {
    if (row.source === null || row.id === null) continue;
    index.add(dedupeHash(String(row.source), String(row.id)), row.offset, row.appended_at);
  }
  return index;
}

export function rebuildDedupe(
  db: Db,
  topics: readonly TopicState[],
  now: number,
): Map<number, DedupeIndex> {
  const indexes = new Map<number, DedupeIndex>();
  for (const topic of topics) {
    if (topic.config.dedupeWindowMs > 0) indexes.set(topic.id, rebuildOne(db, topic, now));
  }
  return indexes;
}
