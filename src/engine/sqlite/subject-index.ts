/**
 * The `subject` index (API.md "Indexes", "Event streams per subject"): per (topic, subject) a
 * head row holding the stream's version, bumped in the append's own job (so a version and its
 * event commit together, and the single writer makes check-then-append a compare-and-set).
 * The event's row keeps its subject and version: a stream is one range of the partial index
 * `events_by_subject`, which goes with the events (retention deletes nothing more), and every
 * read of the log carries `subjectversion` for free. Heads are never lowered.
 *
 * `topics.subject_index` is NULL without the index, 0 when ready, and n > 0 while the events
 * from offset n on are still being numbered. Unlike the correlationid backfill this one runs
 * oldest first, up to the topic's last offset (appends meanwhile are left to it), because a
 * version counts every earlier event of its subject.
 */

import { Buffer } from "node:buffer";
import { SwitchyardError } from "../../core/errors.js";
import type { LogRecord } from "../../core/stored-event.js";
import { type IndexState, type NewEvent, SUBJECT_MAX_BYTES, type SubjectPage } from "../engine.js";
import { subjectOf } from "../event-attributes.js";
import type { Db } from "./database.js";
import { readRange } from "./events.js";
import type { JobTx } from "./job-tx.js";
import { eventKeySql, OFFSET_BITS, topicKeySql } from "./schema.js";
import type { TopicState } from "./topic-state.js";

const BACKFILL_CHUNK = 2_000;

export function subjectTooLong(subject: string): boolean {
  return subject.length > SUBJECT_MAX_BYTES / 3 && Buffer.byteLength(subject) > SUBJECT_MAX_BYTES;
}

export function currentVersion(db: Db, topicId: number, subject: string): number {
  const row = db.get<{ version: number }>(
    "SELECT version FROM subject_heads WHERE topic_id = CAST(? AS INTEGER) AND subject = ?",
    topicId,
    subject,
  );
  return row?.version ?? 0;
}

/** Bumps the stream's head for one stored event of `subject`; answers its version. */
export function nextVersion(db: Db, topicId: number, subject: string): number {
  const row = db
    .stmt(
      `INSERT INTO subject_heads (topic_id, subject, version) VALUES (CAST(?1 AS INTEGER), ?2, 1)
       ON CONFLICT (topic_id, subject) DO UPDATE SET version = version + 1
       RETURNING version`,
    )
    .get(topicId, subject) as { version: number };
  return row.version;
}

/** The column value a put writes: keeps a present index, starts a backfill for a new one. */
export function nextSubjectIndexState(
  wanted: boolean,
  current: number | null,
  topic: { eventCount: number; firstOffset: number } | null,
): number | null {
  if (!wanted) return null;
  if (current !== null) return current;
  return topic !== null && topic.eventCount > 0 ? topic.firstOffset : 0;
}

/** Deletes up to `limit` heads of a topic; answers how many. */
export function dropSubjectChunk(db: Db, topicId: number, limit: number): number {
  return db.run(
    `DELETE FROM subject_heads WHERE (topic_id, subject) IN (
       SELECT topic_id, subject FROM subject_heads WHERE topic_id = CAST(?1 AS INTEGER) LIMIT ?2)`,
    topicId,
    limit,
  );
}

// No CAST on the bound topic id here: with one the planner skip-scans `events_by_subject`
// instead of seeking it. Comparing (not computing) with the REAL node:sqlite binds is exact.
const OF_TOPIC = `(event_key >> ${OFFSET_BITS}) = ?1`;

/** Clears up to `limit` versions left by a removed index (heads, then the events' columns). */
export function clearStaleSubjectChunk(db: Db, topicId: number, limit: number): number {
  const heads = dropSubjectChunk(db, topicId, limit);
  if (heads > 0) return heads;
  return db.run(
    `UPDATE events SET subject = NULL, subject_version = NULL WHERE event_key IN (
       SELECT event_key FROM events WHERE ${OF_TOPIC} AND subject_version IS NOT NULL LIMIT ?2)`,
    topicId,
    limit,
  );
}

/**
 * A topic without the index whose heads or events still hold versions (its index was
 * removed), or null. Found through the partial index: topics never indexed cost nothing.
 */
export function staleSubjectTopic(db: Db): number | null {
  const row = db.get<{ topic_id: number }>(
    `SELECT t.topic_id FROM topics t WHERE t.subject_index IS NULL AND (
        EXISTS (SELECT 1 FROM subject_heads h WHERE h.topic_id = t.topic_id)
        OR EXISTS (SELECT 1 FROM events WHERE (event_key >> ${OFFSET_BITS}) = t.topic_id
                     AND subject_version IS NOT NULL)) LIMIT 1`,
  );
  return row?.topic_id ?? null;
}

export function subjectIndexStats(topic: TopicState): IndexState | undefined {
  const pending = topic.subjectIndex;
  if (pending === null) return undefined;
  if (pending === 0) return { state: "ready", remaining: 0 };
  return { state: "building", remaining: Math.max(0, topic.lastOffset - pending + 1) };
}

function setVersionOnEvent(
  db: Db,
  topicId: number,
  offset: number,
  subject: string,
  version: number,
): void {
  db.stmt(
    `UPDATE events SET subject = ?3, subject_version = CAST(?4 AS INTEGER)
      WHERE event_key = ${eventKeySql("?1", "?2")}`,
  ).run(topicId, offset, subject, version);
}

/** Numbers one chunk of one topic's retained events; false when no topic has a backfill left. */
export function subjectBackfillChunkJob(tx: JobTx): boolean {
  const row = tx.db.get<{ name: string }>(
    "SELECT name FROM topics WHERE subject_index > 0 LIMIT 1",
  );
  if (row === undefined) return false;
  const topic = tx.topic(row.name);
  const pending = topic?.subjectIndex ?? null;
  if (topic === null || pending === null || pending === 0) return false;
  const from = Math.max(pending, topic.firstOffset);
  const to = Math.min(topic.lastOffset, from + BACKFILL_CHUNK - 1);
  // The records it numbers change: no job after it in the commit may reuse the old ones.
  tx.reads.forget(topic.id);
  for (const record of readRange(tx.db, topic.id, topic.name, from, to, BACKFILL_CHUNK)) {
    const subject = subjectOf(record.body, undefined);
    if (subject === null) continue;
    const version = nextVersion(tx.db, topic.id, subject);
    setVersionOnEvent(tx.db, topic.id, record.offset, subject, version);
  }
  const next = to >= topic.lastOffset ? 0 : to + 1;
  tx.db.run(
    "UPDATE topics SET subject_index = ? WHERE topic_id = CAST(? AS INTEGER)",
    next,
    topic.id,
  );
  topic.subjectIndex = next;
  return true;
}

export function requireSubjectIndex(topic: TopicState): void {
  if (topic.subjectIndex === 0) return;
  throw new SwitchyardError(
    "index_missing",
    topic.subjectIndex === null
      ? `topic ${topic.name} has no subject index (add "subject" to its indexes)`
      : `the subject index of topic ${topic.name} is still being built`,
  );
}

/** The one subject of an `expectedVersion` append; `invalid_request` otherwise. */
export function soleSubject(events: readonly NewEvent[]): string {
  let subject: string | null = null;
  for (const event of events) {
    const own = subjectOf(event.body, event.subject);
    if (own === null || (subject !== null && own !== subject))
      throw new SwitchyardError(
        "invalid_request",
        "every event of an append with expectedVersion must carry the same subject",
        {
          errors: [
            { pointer: "query:expectedVersion", message: "needs one subject on every event" },
          ],
        },
      );
    subject = own;
  }
  if (subject === null) throw new SwitchyardError("invalid_request", "no events to append");
  return subject;
}

export function versionConflict(
  subject: string,
  current: number,
  expected: number,
): SwitchyardError {
  return new SwitchyardError(
    "version_conflict",
    `the stream of subject ${JSON.stringify(subject)} is at version ${current}, not ${expected}`,
    { details: { currentVersion: current } },
  );
}

interface SubjectRow extends Record<string, unknown> {
  version: number;
  offset: number;
  appended_at: number;
  partition_key: string | null;
  body: string;
}

export function readSubjectPage(
  db: Db,
  topic: TopicState,
  subject: string,
  fromVersion: number,
  limit: number,
): SubjectPage {
  requireSubjectIndex(topic);
  const version = currentVersion(db, topic.id, subject);
  const first = db.get<{ v: number | null }>(
    `SELECT min(subject_version) AS v FROM events
      WHERE ${OF_TOPIC} AND subject = ?2 AND subject_version IS NOT NULL`,
    topic.id,
    subject,
  );
  const firstVersion = first?.v ?? version + 1;
  const rows = db.all<SubjectRow>(
    `SELECT subject_version AS version, event_key - ${topicKeySql("?1")} AS offset,
            appended_at, partition_key, body
       FROM events
      WHERE ${OF_TOPIC} AND subject = ?2 AND subject_version >= CAST(?3 AS INTEGER)
      ORDER BY subject_version LIMIT CAST(?4 AS INTEGER)`,
    topic.id,
    subject,
    fromVersion,
    limit,
  );
  const records: LogRecord[] = rows.map((row) => ({
    topic: topic.name,
    offset: row.offset,
    appendedAt: row.appended_at,
    key: row.partition_key,
    body: row.body,
    subjectVersion: row.version,
  }));
  const last = records.at(-1)?.subjectVersion;
  return {
    records,
    version,
    firstVersion,
    next: last === undefined ? Math.max(fromVersion, firstVersion) : last + 1,
  };
}
