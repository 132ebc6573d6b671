/**
 * A topic's row as a job sees it: config plus the running counters (`last_offset`,
 * `event_count`, `byte_count`) that replace MAX()/COUNT()/SUM() scans. A job loads the row
 * once, mutates the counters and writes them back before its savepoint is released.
 */
import type {
  RetentionConfig,
  SchemaMode,
  TopicConfig,
  TopicIndex,
  TopicSchemas,
} from "../../core/config.js";
import type { Db } from "./database.js";

interface TopicRow extends Record<string, unknown> {
  topic_id: number;
  name: string;
  dedupe_window_ms: number;
  max_event_bytes: number;
  retention_max_age_ms: number | null;
  retention_max_bytes: number | null;
  retention_max_events: number | null;
  owner: "router" | null;
  schema_mode: SchemaMode | null;
  schema_allow_unregistered: number | null;
  correlation_index: number | null;
  subject_index: number | null;
  first_offset: number;
  last_offset: number;
  event_count: number;
  byte_count: number;
  last_appended_at: number;
}

export interface TopicState {
  readonly id: number;
  /** The counters as loaded or last saved, to skip writing back a row nobody changed. */
  loaded: readonly number[];
  readonly name: string;
  readonly config: TopicConfig;
  firstOffset: number;
  lastOffset: number;
  eventCount: number;
  byteCount: number;
  lastAppendedAt: number;
  /** `topics.correlation_index`: null without the index, else its backfill mark (0 = ready). */
  correlationIndex: number | null;
  /** `topics.subject_index`: null without the index, else its backfill mark (0 = ready). */
  subjectIndex: number | null;
}

const SELECT = `SELECT topic_id, name, dedupe_window_ms, max_event_bytes, retention_max_age_ms,
  retention_max_bytes, retention_max_events, owner, schema_mode, schema_allow_unregistered, correlation_index, subject_index, first_offset, last_offset, event_count, byte_count,
  last_appended_at FROM topics`;

function retentionOf(row: TopicRow): RetentionConfig {
  return {
    ...(row.retention_max_age_ms === null ? {} : { maxAgeMs: row.retention_max_age_ms }),
    ...(row.retention_max_bytes === null ? {} : { maxBytes: row.retention_max_bytes }),
    ...(row.retention_max_events === null ? {} : { maxEvents: row.retention_max_events }),
  };
}

function schemasOf(row: TopicRow): { schemas?: TopicSchemas } {
  if (row.schema_mode === null) return {};
  return {
    schemas: { mode: row.schema_mode, allowUnregisteredTypes: row.schema_allow_unregistered !== 0 },
  };
}

function indexesOf(row: TopicRow): Pick<TopicConfig, "indexes"> {
  const indexes: TopicIndex[] = [];
  if (row.subject_index !== null) indexes.push("subject");
  if (row.correlation_index !== null) indexes.push("correlationid");
  return indexes.length === 0 ? {} : { indexes };
}

function countersOf(t: {
  firstOffset: number;
  lastOffset: number;
  eventCount: number;
  byteCount: number;
  lastAppendedAt: number;
}): number[] {
  return [t.firstOffset, t.lastOffset, t.eventCount, t.byteCount, t.lastAppendedAt];
}

function toState(row: TopicRow): TopicState {
  return {
    id: row.topic_id,
    loaded: [
      row.first_offset,
      row.last_offset,
      row.event_count,
      row.byte_count,
      row.last_appended_at,
    ],
    name: row.name,
    config: {
      name: row.name,
      retention: retentionOf(row),
      dedupeWindowMs: row.dedupe_window_ms,
      maxEventBytes: row.max_event_bytes,
      ...(row.owner === null ? {} : { owner: row.owner }),
      ...schemasOf(row),
      ...indexesOf(row),
    },
    firstOffset: row.first_offset,
    lastOffset: row.last_offset,
    eventCount: row.event_count,
    byteCount: row.byte_count,
    lastAppendedAt: row.last_appended_at,
    correlationIndex: row.correlation_index,
    subjectIndex: row.subject_index,
  };
}

const BY_NAME = `${SELECT} WHERE name = ?`;
const BY_ID = `${SELECT} WHERE topic_id = ?`;

export function loadTopic(db: Db, name: string): TopicState | null {
  const row = db.get<TopicRow>(BY_NAME, name);
  return row === undefined ? null : toState(row);
}

export function loadTopicById(db: Db, id: number): TopicState | null {
  const row = db.get<TopicRow>(BY_ID, id);
  return row === undefined ? null : toState(row);
}

export function loadAllTopics(db: Db): TopicState[] {
  return db.all<TopicRow>(`${SELECT} ORDER BY name`).map(toState);
}

export function saveTopicCounters(db: Db, topic: TopicState): void {
  const counters = countersOf(topic);
  if (counters.every((value, i) => value === topic.loaded[i])) return;
  db.run(
    `UPDATE topics SET first_offset = ?, last_offset = ?, event_count = ?, byte_count = ?,
       last_appended_at = ? WHERE topic_id = ?`,
    topic.firstOffset,
    topic.lastOffset,
    topic.eventCount,
    topic.byteCount,
    topic.lastAppendedAt,
    topic.id,
  );
  topic.loaded = counters;
}
