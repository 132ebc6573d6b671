/**
 * `ScheduleStore` over the SQLite store: pending events in the `scheduled` table. Every
 * write (schedule, cancel, fire) is a job of the one writer, so a cancel and a firing of
 * the same event cannot both win: whichever job runs first deletes the row. A firing
 * inserts the events and deletes their rows in one commit, so an event is never appended
 * twice nor lost by a crash (the deterministic message id is what the NATS engine needs;
 * here the commit is the exactly-once step).
 */
import { SwitchyardError } from "../../core/errors.js";
import {
  type CancelResult,
  type FireResult,
  MAX_PENDING_PER_TOPIC,
  type NewEvent,
  type PendingEvent,
  type Scheduled,
  type ScheduledPage,
  type ScheduledRecord,
  type ScheduleStore,
} from "../engine.js";
import { appendToTopic } from "./append.js";
import type { EngineContext } from "./context.js";
import type { Db } from "./database.js";
import { DedupeIndex, dedupeHash } from "./dedupe-index.js";
import { closedError, topicNotFound, toSwitchyardError } from "./errors.js";
import type { JobTx } from "./job-tx.js";
import { loadTopic } from "./topic-state.js";

interface Row {
  readonly [column: string]: unknown;
  seq: number;
  deliver_at: number;
  source: string;
  event_id: string;
  partition_key: string | null;
  body: string;
}

/** The page token: where the previous page stopped, as `deliverAt.seq` in base64url. */
function tokenOf(row: Row): string {
  return Buffer.from(`${row.deliver_at}.${row.seq}`).toString("base64url");
}

function parseToken(token: string): { deliverAt: number; seq: number } {
  const match = /^(-?\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(token, "base64url").toString());
  if (match === null)
    throw new SwitchyardError("invalid_request", "after: not a page token of this list", {
      errors: [{ pointer: "query:after", message: "is not a page token of this list" }],
    });
  return { deliverAt: Number(match[1]), seq: Number(match[2]) };
}

function pendingCount(db: Db, topicId: number): number {
  return db.value("SELECT pending FROM scheduled_counts WHERE topic_id = ?", topicId);
}

function addPending(db: Db, topicId: number, delta: number): void {
  db.run(
    `INSERT INTO scheduled_counts (topic_id, pending) VALUES (?1, CAST(?2 AS INTEGER))
     ON CONFLICT (topic_id) DO UPDATE SET pending = pending + CAST(?2 AS INTEGER)`,
    topicId,
    delta,
  );
}

function scheduleJob(tx: JobTx, topicName: string, events: readonly PendingEvent[]): Scheduled[] {
  const topic = tx.topic(topicName);
  if (topic === null) throw topicNotFound(topicName);
  const results: Scheduled[] = [];
  let added = 0;
  for (const { event, deliverAt } of events) {
    const existing = tx.db.get<{ deliver_at: number }>(
      "SELECT deliver_at FROM scheduled WHERE topic_id = ? AND event_id = ? AND source = ?",
      topic.id,
      event.id,
      event.source,
    );
    if (existing !== undefined) {
      results.push({ deliverAt: existing.deliver_at, duplicate: true });
      continue;
    }
    tx.db.run(
      `INSERT INTO scheduled (topic_id, deliver_at, source, event_id, partition_key, body)
       VALUES (?, CAST(? AS INTEGER), ?, ?, ?, ?)`,
      topic.id,
      deliverAt,
      event.source,
      event.id,
      event.key,
      event.body,
    );
    results.push({ deliverAt, duplicate: false });
    added++;
  }
  if (added > 0) {
    if (pendingCount(tx.db, topic.id) + added > MAX_PENDING_PER_TOPIC)
      throw new SwitchyardError(
        "rate_limited",
        `topic ${topicName} already holds the most pending scheduled events (${MAX_PENDING_PER_TOPIC}); retry once some have fired`,
        { retryAfterSeconds: 1 },
      );
    addPending(tx.db, topic.id, added);
  }
  return results;
}

function cancelJob(tx: JobTx, topicName: string, id: string, source: string | null): CancelResult {
  const topic = tx.topic(topicName);
  if (topic === null) throw topicNotFound(topicName);
  const rows =
    source === null
      ? tx.db.all<{ seq: number }>(
          "SELECT seq FROM scheduled WHERE topic_id = ? AND event_id = ? LIMIT 2",
          topic.id,
          id,
        )
      : tx.db.all<{ seq: number }>(
          "SELECT seq FROM scheduled WHERE topic_id = ? AND event_id = ? AND source = ?",
          topic.id,
          id,
          source,
        );
  const [row] = rows;
  if (row === undefined) return "not_found";
  if (rows.length > 1) return "ambiguous";
  tx.db.run("DELETE FROM scheduled WHERE seq = ?", row.seq);
  addPending(tx.db, topic.id, -1);
  return "cancelled";
}

function fireJob(
  tx: JobTx,
  topicName: string,
  now: number,
  limit: number,
  onStored: (topic: string) => void,
): FireResult {
  const topic = tx.topic(topicName);
  if (topic === null) return { fired: 0, next: null }; // deleted: its pending events went with it
  const rows = tx.db.all<Row>(
    `SELECT seq, deliver_at, source, event_id, partition_key, body FROM scheduled
     WHERE topic_id = ? AND deliver_at <= CAST(? AS INTEGER)
     ORDER BY deliver_at, seq LIMIT CAST(? AS INTEGER)`,
    topic.id,
    now,
    limit,
  );
  const next = (): number | null => {
    const row = tx.db.get<{ due: number | null }>(
      "SELECT MIN(deliver_at) AS due FROM scheduled WHERE topic_id = ?",
      topic.id,
    );
    return row?.due ?? null;
  };
  if (rows.length === 0) return { fired: 0, next: next() };
  const events: NewEvent[] = rows.map((r) => ({
    id: r.event_id,
    source: r.source,
    key: r.partition_key,
    body: r.body,
  }));
  // API.md: firing skips the dedupe window (acceptance already deduplicated the event).
  const appended = appendToTopic(tx, topic, events, { dedupe: false, onStored });
  // But the fired events enter it, as a reopen's rebuild of the window would find them: a
  // publish of the same event retried after it fired is a duplicate.
  if (topic.config.dedupeWindowMs > 0) {
    // Entries only land in an index that exists (appends create it on first use).
    if (!tx.dedupeIndexes.has(topic.id)) tx.dedupeIndexes.set(topic.id, new DedupeIndex());
    appended.forEach((result, i) => {
      const event = events[i];
      if (event !== undefined && "offset" in result)
        tx.addDedupe(
          topic.id,
          dedupeHash(event.source, event.id),
          result.offset,
          topic.lastAppendedAt,
        );
    });
  }
  for (const row of rows) tx.db.run("DELETE FROM scheduled WHERE seq = ?", row.seq);
  addPending(tx.db, topic.id, -rows.length);
  return { fired: rows.length, next: next() };
}

export class SqliteScheduleStore implements ScheduleStore {
  /** The store lock admits one router: it fires without asking anyone. */
  readonly shared = false;
  readonly #ctx: EngineContext;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  #read<T>(doing: string, read: () => T): Promise<T> {
    if (this.#ctx.isClosed()) return Promise.reject(closedError());
    try {
      return Promise.resolve(read());
    } catch (error) {
      return Promise.reject(toSwitchyardError(error, doing));
    }
  }

  schedule(topic: string, events: readonly PendingEvent[]): Promise<readonly Scheduled[]> {
    return this.#ctx.writer.submit(Math.max(1, events.length), (tx) =>
      scheduleJob(tx, topic, events),
    );
  }

  list(topic: string, limit: number, after: string | null): Promise<ScheduledPage> {
    return this.#read("listing scheduled events", () => {
      const state = loadTopic(this.#ctx.db, topic);
      if (state === null) throw topicNotFound(topic);
      const from = after === null ? null : parseToken(after);
      const columns = "seq, deliver_at, source, event_id, partition_key, body";
      const rows =
        from === null
          ? this.#ctx.db.all<Row>(
              `SELECT ${columns} FROM scheduled WHERE topic_id = ?
               ORDER BY deliver_at, seq LIMIT CAST(? AS INTEGER)`,
              state.id,
              limit + 1,
            )
          : this.#ctx.db.all<Row>(
              `SELECT ${columns} FROM scheduled WHERE topic_id = ?1
                 AND (deliver_at, seq) > (CAST(?2 AS INTEGER), CAST(?3 AS INTEGER))
               ORDER BY deliver_at, seq LIMIT CAST(?4 AS INTEGER)`,
              state.id,
              from.deliverAt,
              from.seq,
              limit + 1,
            );
      const page = rows.slice(0, limit);
      const records: ScheduledRecord[] = page.map((r) => ({
        id: r.event_id,
        source: r.source,
        deliverAt: r.deliver_at,
        body: r.body,
      }));
      const last = page.at(-1);
      return { records, next: rows.length > limit && last !== undefined ? tokenOf(last) : null };
    });
  }

  cancel(topic: string, id: string, source: string | null): Promise<CancelResult> {
    return this.#ctx.writer.submit(1, (tx) => cancelJob(tx, topic, id, source));
  }

  due(): Promise<ReadonlyMap<string, number>> {
    return this.#read("reading scheduled due times", () => {
      const rows = this.#ctx.db.all<{ name: string; due: number }>(
        `SELECT t.name AS name, (SELECT MIN(s.deliver_at) FROM scheduled s
           WHERE s.topic_id = c.topic_id) AS due
         FROM scheduled_counts c JOIN topics t ON t.topic_id = c.topic_id
         WHERE c.pending > 0`,
      );
      return new Map(rows.filter((r) => r.due !== null).map((r) => [r.name, r.due]));
    });
  }

  fire(topic: string, now: number, limit: number): Promise<FireResult> {
    return this.#ctx.writer.submit(limit, (tx) =>
      fireJob(tx, topic, now, limit, this.#ctx.topicChanged),
    );
  }
}
