/**
 * The `correlationid` index (API.md "Indexes"): one `correlation_index` row per stored event
 * of a topic indexed by it, written in the append's own job, so the index never disagrees
 * with the log. Topics without the index pay nothing. `topics.correlation_index` is NULL
 * without the index, 0 when it is ready, and n > 0 while the events below offset n (those
 * the topic held when the index was added) are still being filled in, newest first, in
 * chunks that publishes interleave with.
 */

import { SwitchyardError } from "../../core/errors.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { FlowPage, IndexState } from "../engine.js";
import { correlationIdOf } from "../event-attributes.js";
import type { Db } from "./database.js";
import { readRange } from "./events.js";
import type { JobTx } from "./job-tx.js";
import { OFFSET_BITS } from "./schema.js";
import type { TopicState } from "./topic-state.js";

const BACKFILL_CHUNK = 2_000;

export function indexEvent(
  db: Db,
  topicId: number,
  offset: number,
  appendedAt: number,
  correlationId: string,
): void {
  db.stmt(
    `INSERT INTO correlation_index (correlation_id, appended_at, topic_id, event_offset)
     VALUES (?, CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS INTEGER))`,
  ).run(correlationId, appendedAt, topicId, offset);
}

/** The column value a put writes: keeps a present index, starts a backfill for a new one. */
export function nextIndexState(
  wanted: boolean,
  current: number | null,
  topic: { eventCount: number; lastOffset: number } | null,
): number | null {
  if (!wanted) return null;
  if (current !== null) return current;
  return topic !== null && topic.eventCount > 0 ? topic.lastOffset + 1 : 0;
}

/**
 * Deletes up to `limit` index rows of a topic; answers how many. Rows of a topic without the
 * index (removed, or the topic dropped) are invisible to flows, so the retention pass deletes
 * them in chunks like a dropped topic's events, never in one long transaction.
 */
export function dropIndexChunk(db: Db, topicId: number, limit: number): number {
  return db.run(
    `DELETE FROM correlation_index WHERE rowid IN (
       SELECT rowid FROM correlation_index WHERE topic_id = CAST(?1 AS INTEGER) LIMIT ?2)`,
    topicId,
    limit,
  );
}

/** A topic without the index that still has rows (its index was removed), or null. */
export function staleIndexTopic(db: Db): number | null {
  const row = db.get<{ topic_id: number }>(
    `SELECT t.topic_id FROM topics t WHERE t.correlation_index IS NULL
        AND EXISTS (SELECT 1 FROM correlation_index c WHERE c.topic_id = t.topic_id) LIMIT 1`,
  );
  return row?.topic_id ?? null;
}

/** Retention removed the events below `first`: their index rows go in the same job. */
export function dropIndexBelow(db: Db, topicId: number, first: number): void {
  db.run(
    `DELETE FROM correlation_index
      WHERE topic_id = CAST(? AS INTEGER) AND event_offset < CAST(? AS INTEGER)`,
    topicId,
    first,
  );
}

export function indexStats(db: Db, topic: TopicState): IndexState | undefined {
  const pending = topic.correlationIndex;
  if (pending === null) return undefined;
  if (pending === 0 || pending <= topic.firstOffset) return { state: "ready", remaining: 0 };
  const remaining = db.value(
    `SELECT count(*) FROM events WHERE event_key BETWEEN
       (CAST(?1 AS INTEGER) << ${OFFSET_BITS}) + CAST(?2 AS INTEGER)
       AND (CAST(?1 AS INTEGER) << ${OFFSET_BITS}) + CAST(?3 AS INTEGER) - 1`,
    topic.id,
    topic.firstOffset,
    pending,
  );
  return { state: "building", remaining };
}

/** Fills in one chunk of one topic's backfill; false when no topic has one left. */
export function backfillChunkJob(tx: JobTx): boolean {
  const row = tx.db.get<{ name: string }>(
    "SELECT name FROM topics WHERE correlation_index > 0 LIMIT 1",
  );
  if (row === undefined) return false;
  const topic = tx.topic(row.name);
  const pending = topic?.correlationIndex ?? null;
  if (topic === null || pending === null) return false;
  const lower = Math.max(topic.firstOffset, pending - BACKFILL_CHUNK);
  const records = readRange(tx.db, topic.id, topic.name, lower, pending - 1, BACKFILL_CHUNK);
  for (const record of records) {
    const id = correlationIdOf(record.body, undefined);
    if (id !== null) indexEvent(tx.db, topic.id, record.offset, record.appendedAt, id);
  }
  const next = lower <= topic.firstOffset ? 0 : lower;
  tx.db.run(
    "UPDATE topics SET correlation_index = ? WHERE topic_id = CAST(? AS INTEGER)",
    next,
    topic.id,
  );
  topic.correlationIndex = next;
  return true;
}

interface FlowRow extends Record<string, unknown> {
  topic: string;
  offset: number;
  appended_at: number;
  partition_key: string | null;
  body: string;
  subject_version: number | null;
}

export function readFlow(db: Db, correlationId: string, limit: number): FlowPage {
  const building = db.all<{ name: string }>(
    "SELECT name FROM topics WHERE correlation_index > first_offset ORDER BY name",
  );
  if (building.length > 0)
    throw new SwitchyardError(
      "index_missing",
      `the correlationid index of topic(s) ${building.map((b) => b.name).join(", ")} is still being built`,
    );
  const rows = db.all<FlowRow>(
    `SELECT t.name AS topic, c.event_offset AS offset, e.appended_at AS appended_at,
            e.partition_key AS partition_key, e.body AS body, e.subject_version AS subject_version
       FROM correlation_index c
       JOIN topics t ON t.topic_id = c.topic_id AND t.correlation_index IS NOT NULL
       JOIN events e ON e.event_key = (c.topic_id << ${OFFSET_BITS}) + c.event_offset
      WHERE c.correlation_id = ?
      ORDER BY c.appended_at, c.rowid
      LIMIT CAST(? AS INTEGER)`,
    correlationId,
    limit + 1,
  );
  const records: LogRecord[] = rows.slice(0, limit).map((row) => ({
    topic: row.topic,
    offset: row.offset,
    appendedAt: row.appended_at,
    key: row.partition_key,
    body: row.body,
    ...(row.subject_version === null ? {} : { subjectVersion: row.subject_version }),
  }));
  return { records, truncated: rows.length > limit };
}
