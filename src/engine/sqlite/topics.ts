/**
 * Topic catalog writes. Deleting a topic removes its row at once and records the id in
 * `dropped_topics`; its events are deleted in small chunks by the retention pass, so deleting
 * a topic of millions of events never stalls publishes. Topic ids are never reused
 * (AUTOINCREMENT), so a re-created topic of the same name starts empty.
 */
import type { TopicConfig } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
import { dropIndexChunk, nextIndexState } from "./correlation-index.js";
import type { JobTx } from "./job-tx.js";
import { MAX_TOPIC_ID } from "./schema.js";
import { dropSubjectChunk, nextSubjectIndexState } from "./subject-index.js";
import { loadTopic } from "./topic-state.js";

function retentionParams(config: TopicConfig): (number | null)[] {
  const r = config.retention;
  return [r.maxAgeMs ?? null, r.maxBytes ?? null, r.maxEvents ?? null];
}

function schemaParams(config: TopicConfig): (string | number | null)[] {
  const s = config.schemas;
  return s === undefined ? [null, null] : [s.mode, s.allowUnregisteredTypes ? 1 : 0];
}

function wantsSubjectIndex(config: TopicConfig): boolean {
  return config.indexes?.includes("subject") ?? false;
}

function wantsCorrelationIndex(config: TopicConfig): boolean {
  return config.indexes?.includes("correlationid") ?? false;
}

export function putTopicJob(tx: JobTx, config: TopicConfig): { readonly created: boolean } {
  const existing = tx.db.get<{ topic_id: number }>(
    "SELECT topic_id FROM topics WHERE name = ?",
    config.name,
  );
  if (existing !== undefined) {
    tx.forgetTopic(config.name);
    const state = loadTopic(tx.db, config.name);
    const current = state?.correlationIndex ?? null;
    const next = nextIndexState(wantsCorrelationIndex(config), current, state);
    // A removed index's rows go in the retention pass's chunks (flows ignore them at once);
    // an index added again first clears any still left, so the backfill starts clean.
    if (next !== null && current === null)
      while (dropIndexChunk(tx.db, existing.topic_id, 10_000) > 0) {
        // leftovers exist only when the index was removed moments ago
      }
    tx.db.run(
      "UPDATE topics SET correlation_index = ? WHERE topic_id = ?",
      next,
      existing.topic_id,
    );
    const currentSubjects = state?.subjectIndex ?? null;
    const nextSubjects = nextSubjectIndexState(wantsSubjectIndex(config), currentSubjects, state);
    if (nextSubjects !== null && currentSubjects === null)
      while (dropSubjectChunk(tx.db, existing.topic_id, 10_000) > 0) {
        // as above: versions of a re-added index count the retained events afresh
      }
    tx.db.run(
      "UPDATE topics SET subject_index = ? WHERE topic_id = ?",
      nextSubjects,
      existing.topic_id,
    );
    // The owner marker and the schema settings are sticky: a put without them keeps them.
    tx.db.run(
      `UPDATE topics SET dedupe_window_ms = ?, max_event_bytes = ?, retention_max_age_ms = ?,
         retention_max_bytes = ?, retention_max_events = ?, owner = COALESCE(?, owner),
         schema_mode = COALESCE(?, schema_mode),
         schema_allow_unregistered = COALESCE(?, schema_allow_unregistered)
       WHERE topic_id = ?`,
      config.dedupeWindowMs,
      config.maxEventBytes,
      ...retentionParams(config),
      config.owner ?? null,
      ...schemaParams(config),
      existing.topic_id,
    );
    return { created: false };
  }
  const inserted = tx.db.get<{ topic_id: number }>(
    `INSERT INTO topics (name, dedupe_window_ms, max_event_bytes, retention_max_age_ms,
       retention_max_bytes, retention_max_events, owner, schema_mode, schema_allow_unregistered,
       correlation_index, subject_index, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING topic_id`,
    config.name,
    config.dedupeWindowMs,
    config.maxEventBytes,
    ...retentionParams(config),
    config.owner ?? null,
    ...schemaParams(config),
    wantsCorrelationIndex(config) ? 0 : null,
    wantsSubjectIndex(config) ? 0 : null,
    tx.now,
  );
  if (inserted === undefined || inserted.topic_id > MAX_TOPIC_ID)
    throw new SwitchyardError(
      "internal",
      `this store cannot create more than ${MAX_TOPIC_ID} topics`,
    );
  return { created: true };
}

/** False for an unknown topic; `topic_in_use` while a subscription reads it. */
export function deleteTopicJob(tx: JobTx, name: string): boolean {
  const topic = tx.topic(name);
  if (topic === null) return false;
  const readers = tx.db.all<{ name: string }>(
    "SELECT name FROM subscriptions WHERE topic_id = ? ORDER BY name",
    topic.id,
  );
  if (readers.length > 0)
    throw new SwitchyardError(
      "topic_in_use",
      `topic ${name} is read by subscription(s) ${readers.map((r) => r.name).join(", ")}`,
    );
  tx.forgetTopic(name);
  tx.db.run("DELETE FROM topics WHERE topic_id = ?", topic.id);
  tx.db.run("DELETE FROM scheduled WHERE topic_id = ?", topic.id);
  tx.db.run("DELETE FROM scheduled_counts WHERE topic_id = ?", topic.id);
  // Index rows go with the topic's events, in the dropped topic's chunks (retention.ts).
  tx.db.run(
    "INSERT INTO dropped_topics (topic_id, name, dropped_at) VALUES (?, ?, ?)",
    topic.id,
    name,
    tx.now,
  );
  tx.afterCommit(() => tx.dedupeIndexes.delete(topic.id));
  return true;
}
