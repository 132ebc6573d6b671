/**
 * The events table: one row per stored event, keyed by `event_key = topic_id << 42 | offset`
 * (an INTEGER PRIMARY KEY, so a topic's events are one contiguous rowid range and an append
 * always lands at the end of it). Measured against a WITHOUT ROWID (topic_id, offset) table:
 * same append rate, but point reads 1.4x faster at 256 bytes and 4.5x at 2 KB events, because
 * interior pages hold integer keys only. The `event_log` view shows topic names and offsets.
 */
import type { LogRecord } from "../../core/stored-event.js";
import type { Db } from "./database.js";
import { eventKeySql, topicKeySql } from "./schema.js";

const KEY = eventKeySql("?1", "?2");
const UPTO = eventKeySql("?1", "?3");

interface EventRow extends Record<string, unknown> {
  offset: number;
  appended_at: number;
  partition_key: string | null;
  body: string;
  subject_version: number | null;
}

// Built once: a statement's SQL is its cache key, and hashing a fresh string per event costs.
const INSERT = `INSERT INTO events (event_key, appended_at, partition_key, body) VALUES (${KEY}, ?3, ?4, ?5)`;
const INSERT_WITH_SUBJECT = `INSERT INTO events (event_key, appended_at, partition_key, body, subject, subject_version)
       VALUES (${KEY}, ?3, ?4, ?5, ?6, CAST(?7 AS INTEGER))`;

export function insertEvent(
  db: Db,
  topicId: number,
  offset: number,
  appendedAt: number,
  key: string | null,
  body: string,
  subject: { readonly subject: string; readonly version: number } | null = null,
): void {
  if (subject === null) db.stmt(INSERT).run(topicId, offset, appendedAt, key, body);
  else
    db.stmt(INSERT_WITH_SUBJECT).run(
      topicId,
      offset,
      appendedAt,
      key,
      body,
      subject.subject,
      subject.version,
    );
}

function toRecord(topic: string, row: EventRow): LogRecord {
  return {
    topic,
    offset: row.offset,
    appendedAt: row.appended_at,
    key: row.partition_key,
    body: row.body,
    ...(row.subject_version === null ? {} : { subjectVersion: row.subject_version }),
  };
}

export function readEvent(
  db: Db,
  topicId: number,
  topic: string,
  offset: number,
): LogRecord | null {
  const row = db.get<EventRow>(
    `SELECT ?2 AS offset, appended_at, partition_key, body, subject_version FROM events WHERE event_key = ${KEY}`,
    topicId,
    offset,
  );
  return row === undefined ? null : toRecord(topic, row);
}

const RANGE = `SELECT event_key - ${topicKeySql("?1")} AS offset, appended_at, partition_key, body, subject_version
   FROM events WHERE event_key BETWEEN ${KEY} AND ${UPTO}
   ORDER BY event_key LIMIT ?4`;

/** Up to `limit` records with offsets in [from, to], in offset order. */
export function readRange(
  db: Db,
  topicId: number,
  topic: string,
  from: number,
  to: number,
  limit: number,
): LogRecord[] {
  if (limit <= 0 || to < from) return [];
  return db.all<EventRow>(RANGE, topicId, from, to, limit).map((row) => toRecord(topic, row));
}

function appendedAtOf(db: Db, topicId: number, offset: number): number | undefined {
  const row = db.get<{ appended_at: number }>(
    `SELECT appended_at FROM events WHERE event_key = ${KEY}`,
    topicId,
    offset,
  );
  return row?.appended_at;
}

/**
 * The first offset in [first, last] appended at or after `time`, or `last + 1`. Binary search
 * over point reads: appended_at never decreases within a topic (see append.ts).
 */
export function offsetAtTime(
  db: Db,
  topicId: number,
  first: number,
  last: number,
  time: number,
): number {
  let lo = first;
  let hi = last + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const at = appendedAtOf(db, topicId, mid);
    if (at === undefined || at < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Deletes the events with offsets in [from, to]; returns how many and their body bytes. */
export function deleteRange(
  db: Db,
  topicId: number,
  from: number,
  to: number,
): { readonly events: number; readonly bytes: number } {
  const sums = db.get<{ n: number; bytes: number | null }>(
    `SELECT count(*) AS n, sum(octet_length(body)) AS bytes FROM events
       WHERE event_key BETWEEN ${KEY} AND ${UPTO}`,
    topicId,
    from,
    to,
  );
  db.run(`DELETE FROM events WHERE event_key BETWEEN ${KEY} AND ${UPTO}`, topicId, from, to);
  return { events: sums?.n ?? 0, bytes: sums?.bytes ?? 0 };
}
