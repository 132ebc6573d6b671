/**
 * The events the jobs of one commit have read, shared by them: when 100 subscriptions of a
 * topic lease in the same commit, the range they all reach is read from SQLite and built into
 * records once, not 100 times. Records are immutable, so handing the same objects to every
 * subscription is safe.
 *
 * It lives as long as its commit (a failed commit drops it with everything else) and must
 * mirror the events table: a job that rewrites or deletes events of a topic forgets that
 * topic (retention, subject index chunks), and a job rolled back to its savepoint clears it
 * all, because what it read may include events it appended (a dead letter) whose offsets the
 * next job reuses. Appends need nothing: they write past every offset read so far.
 */
import type { LogRecord } from "../../core/stored-event.js";
import type { Db } from "./database.js";
import { readRange } from "./events.js";

/**
 * Most records one commit keeps: past it reads go straight to SQLite, so that a commit of
 * many filtered leases scanning far apart holds no more than a few MB of events alive.
 */
const MAX_KEPT = 20_000;

export class CommitReads {
  readonly #byTopic = new Map<number, Map<number, LogRecord>>();
  #kept = 0;

  /** Up to `limit` records with offsets in [from, to], in offset order (as `readRange`). */
  range(
    db: Db,
    topicId: number,
    topic: string,
    from: number,
    to: number,
    limit: number,
  ): LogRecord[] {
    if (limit <= 0 || to < from) return [];
    // What it keeps mirrors the table, so reading past it returns the same records.
    if (this.#kept >= MAX_KEPT) return readRange(db, topicId, topic, from, to, limit);
    let known = this.#byTopic.get(topicId);
    if (known === undefined) {
      known = new Map();
      this.#byTopic.set(topicId, known);
    }
    const out: LogRecord[] = [];
    let at = from;
    while (out.length < limit && at <= to) {
      const hit = known.get(at);
      if (hit !== undefined) {
        out.push(hit);
        at++;
        continue;
      }
      // Read the run of offsets nobody has read yet, and no further: past it they are known.
      const last = Math.min(to, at + (limit - out.length) - 1);
      let end = at;
      while (end < last && !known.has(end + 1)) end++;
      for (const record of readRange(db, topicId, topic, at, end, end - at + 1)) {
        known.set(record.offset, record);
        this.#kept++;
        out.push(record);
      }
      at = end + 1;
    }
    return out;
  }

  /** The topic's events were rewritten or deleted. */
  forget(topicId: number): void {
    this.#kept -= this.#byTopic.get(topicId)?.size ?? 0;
    this.#byTopic.delete(topicId);
  }

  clear(): void {
    this.#byTopic.clear();
    this.#kept = 0;
  }
}
