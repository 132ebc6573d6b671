/**
 * Appending: offsets from the topic row's running `last_offset`, one INSERT per stored event,
 * dedupe through the in-memory window index, all inside the caller's job (so atomic per
 * call). `appended_at` never decreases within a topic, even if the clock steps back: time
 * lookups binary-search it and retention by age stops at the first young event.
 */
import { Buffer } from "node:buffer";
import { SwitchyardError } from "../../core/errors.js";
import type { AppendCondition, Appended, NewEvent } from "../engine.js";
import { correlationIdOf, subjectOf } from "../event-attributes.js";
import { indexEvent } from "./correlation-index.js";
import { DedupeIndex, dedupeHash } from "./dedupe-index.js";
import { topicNotFound } from "./errors.js";
import { insertEvent, readEvent } from "./events.js";
import type { JobTx } from "./job-tx.js";
import {
  currentVersion,
  nextVersion,
  requireSubjectIndex,
  soleSubject,
  subjectTooLong,
  versionConflict,
} from "./subject-index.js";
import type { TopicState } from "./topic-state.js";

export interface AppendOptions {
  /** Dead-letter appends skip dedupe: the same event may be dead-lettered again after a redrive. */
  readonly dedupe: boolean;
  /** Runs after commit when at least one event was stored (wakes tails and leases). */
  readonly onStored: (topic: string) => void;
}

function sameEvent(tx: JobTx, topic: TopicState, offset: number, event: NewEvent): boolean {
  const stored = readEvent(tx.db, topic.id, topic.name, offset);
  if (stored === null) return false; // removed by retention: nothing left to be a duplicate of
  const parsed = JSON.parse(stored.body) as { source?: unknown; id?: unknown };
  return parsed.source === event.source && parsed.id === event.id;
}

function indexOf(tx: JobTx, topicId: number): DedupeIndex {
  let index = tx.dedupeIndexes.get(topicId);
  if (index === undefined) {
    index = new DedupeIndex();
    tx.dedupeIndexes.set(topicId, index);
  }
  return index;
}

function findDuplicate(
  tx: JobTx,
  topic: TopicState,
  hash: number,
  cutoff: number,
  event: NewEvent,
): number | undefined {
  const pending = tx.pendingDedupe(topic.id, hash);
  if (pending !== undefined && sameEvent(tx, topic, pending, event)) return pending;
  const committed = indexOf(tx, topic.id).lookup(hash, cutoff);
  if (committed !== undefined && committed !== pending && sameEvent(tx, topic, committed, event))
    return committed;
  return undefined;
}

function duplicateResult(tx: JobTx, topic: TopicState, offset: number): Appended {
  if (topic.subjectIndex === null) return { offset, duplicate: true };
  const version = readEvent(tx.db, topic.id, topic.name, offset)?.subjectVersion;
  return version === undefined
    ? { offset, duplicate: true }
    : { offset, duplicate: true, subjectVersion: version };
}

/**
 * The compare-and-set of an `expectedVersion` append, in the append's job (the single writer
 * makes it atomic): the original results when every event repeats an earlier append, null
 * when the stream is at the expected version, else `version_conflict`.
 */
function checkExpectedVersion(
  tx: JobTx,
  topic: TopicState,
  events: readonly NewEvent[],
  expected: number,
): Appended[] | null {
  requireSubjectIndex(topic);
  const subject = soleSubject(events);
  const window = topic.config.dedupeWindowMs;
  const cutoff = Math.max(tx.now, topic.lastAppendedAt) - window;
  const repeats =
    window > 0
      ? events.map((event) =>
          findDuplicate(tx, topic, dedupeHash(event.source, event.id), cutoff, event),
        )
      : [];
  const current = currentVersion(tx.db, topic.id, subject);
  const repeated = repeats.filter((offset) => offset !== undefined);
  if (repeated.length > 0 && repeated.length === events.length)
    return repeated.map((offset) => duplicateResult(tx, topic, offset));
  if (repeated.length > 0 || current !== expected)
    throw versionConflict(subject, current, expected);
  return null;
}

export function appendToTopic(
  tx: JobTx,
  topic: TopicState,
  events: readonly NewEvent[],
  options: AppendOptions,
): Appended[] {
  const at = Math.max(tx.now, topic.lastAppendedAt);
  const window = options.dedupe ? topic.config.dedupeWindowMs : 0;
  const cutoff = at - window;
  const results: Appended[] = [];
  let stored = 0;
  for (const event of events) {
    const hash = window > 0 ? dedupeHash(event.source, event.id) : 0;
    const duplicate = window > 0 ? findDuplicate(tx, topic, hash, cutoff, event) : undefined;
    if (duplicate !== undefined) {
      results.push(duplicateResult(tx, topic, duplicate));
      continue;
    }
    const offset = topic.lastOffset + 1;
    // While a backfill runs (subjectIndex > 0) it numbers new events too, in order.
    const subject = topic.subjectIndex === 0 ? subjectOf(event.body, event.subject) : null;
    const subjectVersion = subject === null ? null : nextVersion(tx.db, topic.id, subject);
    insertEvent(
      tx.db,
      topic.id,
      offset,
      at,
      event.key,
      event.body,
      subject === null || subjectVersion === null ? null : { subject, version: subjectVersion },
    );
    if (topic.correlationIndex !== null) {
      const correlationId = correlationIdOf(event.body, event.correlationId);
      if (correlationId !== null) indexEvent(tx.db, topic.id, offset, at, correlationId);
    }
    topic.lastOffset = offset;
    topic.eventCount += 1;
    topic.byteCount += Buffer.byteLength(event.body);
    if (window > 0) tx.addDedupe(topic.id, hash, offset, at);
    results.push(
      subjectVersion === null
        ? { offset, duplicate: false }
        : { offset, duplicate: false, subjectVersion },
    );
    stored++;
  }
  if (stored > 0) {
    topic.lastAppendedAt = at;
    tx.afterCommit(() => options.onStored(topic.name));
  }
  return results;
}

/** The `append` job of `EventLog.append`. */
export function appendJob(
  tx: JobTx,
  topicName: string,
  events: readonly NewEvent[],
  onStored: (topic: string) => void,
  condition: AppendCondition = {},
): Appended[] {
  const topic = tx.topic(topicName);
  if (topic === null) throw topicNotFound(topicName);
  if (topic.subjectIndex !== null) refuseLongSubjects(events);
  if (topic.config.dedupeWindowMs > 0)
    indexOf(tx, topic.id).prune(tx.now - topic.config.dedupeWindowMs);
  if (condition.expectedVersion !== undefined) {
    const repeats = checkExpectedVersion(tx, topic, events, condition.expectedVersion);
    if (repeats !== null) return repeats;
  }
  return appendToTopic(tx, topic, events, { dedupe: true, onStored });
}

/** On a topic indexed by `subject`, a subject longer than SUBJECT_MAX_BYTES is refused. */
function refuseLongSubjects(events: readonly NewEvent[]): void {
  events.forEach((event, i) => {
    const subject = subjectOf(event.body, event.subject);
    if (subject !== null && subjectTooLong(subject))
      throw new SwitchyardError("invalid_event", "subject is longer than 1024 bytes", {
        errors: [{ pointer: `/${i}/subject`, message: "at most 1024 bytes on this topic" }],
      });
  });
}
