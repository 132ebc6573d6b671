/**
 * Retention, in chunks of at most CHUNK events per job so that publishes queued behind a
 * pass wait for one small transaction at most: per topic by age, bytes and count (oldest
 * first), then the events of dropped topics, then `incremental_vacuum` in small steps to give
 * the freed pages back to the file system. Deliveries of removed events are dropped (the
 * event is gone) and their keys handed on; dead letters whose copy was removed can no longer
 * be redriven.
 */
import type { RetentionResult } from "../engine.js";
import type { EngineContext } from "./context.js";
import {
  backfillChunkJob,
  dropIndexBelow,
  dropIndexChunk,
  staleIndexTopic,
} from "./correlation-index.js";
import type { Db } from "./database.js";
import { deleteRange } from "./events.js";
import type { JobTx } from "./job-tx.js";
import { promoteKey } from "./key-order.js";
import { materializeBelow } from "./pending-leases.js";
import { eventKeySql, OFFSET_MASK, topicKeySql } from "./schema.js";
import {
  clearStaleSubjectChunk,
  dropSubjectChunk,
  staleSubjectTopic,
  subjectBackfillChunkJob,
} from "./subject-index.js";
import { loadAllTopics, type TopicState } from "./topic-state.js";

const CHUNK = 5_000;
const VACUUM_PAGES = 1_024;

interface Chunk {
  readonly events: number;
  readonly bytes: number;
  readonly more: boolean;
}

const NOTHING: Chunk = { events: 0, bytes: 0, more: false };

function hasLimits(topic: TopicState): boolean {
  const r = topic.config.retention;
  return r.maxAgeMs !== undefined || r.maxBytes !== undefined || r.maxEvents !== undefined;
}

/** How many of the oldest events (and their bytes) the topic's limits remove now. */
function countExpired(
  tx: JobTx,
  topic: TopicState,
): { events: number; bytes: number; scanned: number } {
  const { maxAgeMs, maxBytes, maxEvents } = topic.config.retention;
  const rows = tx.db.all<{ appended_at: number; bytes: number }>(
    `SELECT appended_at, octet_length(body) AS bytes FROM events
      WHERE event_key BETWEEN ${eventKeySql("?1", "?2")} AND ${eventKeySql("?1", "?3")}
      ORDER BY event_key LIMIT ?4`,
    topic.id,
    topic.firstOffset,
    topic.lastOffset,
    CHUNK,
  );
  let events = 0;
  let bytes = 0;
  for (const row of rows) {
    const old = maxAgeMs !== undefined && row.appended_at < tx.now - maxAgeMs;
    const tooMany = maxEvents !== undefined && topic.eventCount - events > maxEvents;
    const tooBig = maxBytes !== undefined && topic.byteCount - bytes > maxBytes;
    if (!(old || tooMany || tooBig)) break;
    events++;
    bytes += row.bytes;
  }
  return { events, bytes, scanned: rows.length };
}

/** Drops deliveries of removed events (not redriven ones, which carry their own copy). */
function dropDeliveriesBelow(tx: JobTx, topic: TopicState, first: number): void {
  const subs = tx.db.all<{ subscription_id: number }>(
    "SELECT subscription_id FROM subscriptions WHERE topic_id = ?",
    topic.id,
  );
  for (const { subscription_id: subId } of subs) {
    // Held first leases of removed events become rows here, and go with the others.
    materializeBelow(tx, subId, first);
    const rows = tx.db.all<{ event_offset: number; partition_key: string | null }>(
      `SELECT event_offset, partition_key FROM deliveries
        WHERE subscription_id = ? AND event_offset < ? AND dead_letter_offset IS NULL`,
      subId,
      first,
    );
    if (rows.length === 0) continue;
    tx.db.run(
      `DELETE FROM deliveries WHERE subscription_id = ? AND event_offset < ? AND dead_letter_offset IS NULL`,
      subId,
      first,
    );
    for (const key of new Set(rows.map((r) => r.partition_key))) promoteKey(tx, subId, key);
  }
}

export function retentionChunkJob(tx: JobTx, name: string): Chunk {
  const topic = tx.topic(name);
  if (topic === null || topic.eventCount === 0 || !hasLimits(topic)) return NOTHING;
  const expired = countExpired(tx, topic);
  if (expired.events === 0) return NOTHING;
  const first = topic.firstOffset + expired.events;
  const removed = deleteRange(tx.db, topic.id, topic.firstOffset, first - 1);
  tx.reads.forget(topic.id);
  topic.firstOffset = first;
  topic.eventCount -= removed.events;
  topic.byteCount -= removed.bytes;
  dropDeliveriesBelow(tx, topic, first);
  if (topic.correlationIndex !== null) dropIndexBelow(tx.db, topic.id, first);
  tx.db.run(
    "DELETE FROM dead_letters WHERE dead_letter_topic_id = ? AND dead_letter_offset < ?",
    topic.id,
    first,
  );
  return { ...removed, more: expired.events === expired.scanned && expired.scanned === CHUNK };
}

/** Deletes one chunk of a dropped topic's events; false when no dropped topic is left. */
export function dropChunkJob(tx: JobTx): boolean {
  const dropped = tx.db.get<{ topic_id: number }>("SELECT topic_id FROM dropped_topics LIMIT 1");
  if (dropped === undefined) return false;
  const id = dropped.topic_id;
  tx.reads.forget(id);
  if (dropIndexChunk(tx.db, id, CHUNK) === CHUNK) return true;
  if (dropSubjectChunk(tx.db, id, CHUNK) === CHUNK) return true;
  const deleted = tx.db.run(
    `DELETE FROM events WHERE event_key IN (
       SELECT event_key FROM events
        WHERE event_key BETWEEN ${topicKeySql("?1")} AND ${topicKeySql("?1")} + ${OFFSET_MASK}
        LIMIT ${CHUNK})`,
    id,
  );
  if (deleted < CHUNK) {
    tx.db.run("DELETE FROM dead_letters WHERE dead_letter_topic_id = ?", id);
    tx.db.run("DELETE FROM dropped_topics WHERE topic_id = ?", id);
  }
  return true;
}

/** Deletes one chunk of the rows of a removed index; false when none is left. */
function dropStaleIndexJob(tx: JobTx): boolean {
  const topicId = staleIndexTopic(tx.db);
  if (topicId !== null && dropIndexChunk(tx.db, topicId, CHUNK) > 0) return true;
  const subjects = staleSubjectTopic(tx.db);
  if (subjects === null) return false;
  tx.reads.forget(subjects);
  return clearStaleSubjectChunk(tx.db, subjects, CHUNK) > 0;
}

/** Forgets dedupe entries that left their topic's window, for topics nobody appends to. */
function pruneDedupeJob(tx: JobTx): void {
  const windows = new Map(loadAllTopics(tx.db).map((t) => [t.id, t.config.dedupeWindowMs]));
  for (const [topicId, index] of tx.dedupeIndexes) {
    const window = windows.get(topicId) ?? 0;
    if (window > 0) index.prune(tx.now - window);
    else tx.dedupeIndexes.delete(topicId);
  }
}

function vacuumStepJob(tx: JobTx): void {
  tx.db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES})`);
}

function freePages(db: Db): number {
  return db.value("PRAGMA freelist_count");
}

async function giveSpaceBack(ctx: EngineContext): Promise<void> {
  let free = freePages(ctx.db);
  while (free > 0 && !ctx.isClosed()) {
    await ctx.writer.submit(VACUUM_PAGES, vacuumStepJob);
    const left = freePages(ctx.db);
    if (left >= free) return; // nothing more can be given back now
    free = left;
  }
}

/** Fills in indexes added to topics that held events, one chunk per job. */
export async function backfillIndexes(ctx: EngineContext): Promise<void> {
  while (!ctx.isClosed() && (await ctx.writer.submit(CHUNK, backfillChunkJob))) {
    // one chunk per job until no topic has a backfill left
  }
  while (!ctx.isClosed() && (await ctx.writer.submit(CHUNK, subjectBackfillChunkJob))) {
    // likewise for subject versions, oldest first
  }
}

/** One full pass; each chunk is its own job, so publishes interleave between chunks. */
export async function retentionPass(ctx: EngineContext): Promise<RetentionResult> {
  let deletedEvents = 0;
  let deletedBytes = 0;
  for (const topic of loadAllTopics(ctx.db)) {
    if (!hasLimits(topic)) continue;
    for (;;) {
      const chunk = await ctx.writer.submit(CHUNK, (tx) => retentionChunkJob(tx, topic.name));
      deletedEvents += chunk.events;
      deletedBytes += chunk.bytes;
      if (!chunk.more) break;
    }
  }
  await backfillIndexes(ctx);
  while (await ctx.writer.submit(CHUNK, dropStaleIndexJob)) {
    // one chunk per job until no removed index has rows left
  }
  while (await ctx.writer.submit(CHUNK, dropChunkJob)) {
    // one chunk per job until every dropped topic is gone
  }
  await ctx.writer.submit(1, pruneDedupeJob);
  await giveSpaceBack(ctx);
  return { deletedEvents, deletedBytes };
}
