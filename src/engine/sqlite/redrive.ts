/**
 * Redrive: dead letters of a subscription (rows of `dead_letters` not yet redriven, whose copy
 * is still in the dead-letter topic) go back into it as due deliveries of their ORIGINAL
 * offsets with the attempt count reset, in original offset order (so in order per key; under
 * key ordering a redriven event waits behind an active event of its key). Each dead-lettering
 * is marked redriven at most once. Nothing is appended anywhere. Runs in chunks of CHUNK
 * candidates per job.
 */
import { compileFilter, type EventPredicate } from "../../core/filter.js";
import type { RedriveRequest, RedriveResult } from "../engine.js";
import type { EngineContext } from "./context.js";
import type { Db } from "./database.js";
import { insertDelivery } from "./delivery-rows.js";
import { subscriptionNotFound } from "./errors.js";
import type { JobTx } from "./job-tx.js";
import { keyBusy } from "./key-order.js";
import { materialize } from "./pending-leases.js";
import { OFFSET_BITS } from "./schema.js";
import { loadSubscription, type SubscriptionState } from "./subscription-state.js";
import { loadTopicById } from "./topic-state.js";

const CHUNK = 500;

interface Candidate extends Record<string, unknown> {
  dead_letter_topic_id: number;
  dead_letter_offset: number;
  event_offset: number;
  event_id: string;
  event_appended_at: number;
  partition_key: string | null;
  body: string;
}

interface Cursor {
  readonly offset: number;
  readonly dlqTopic: number;
  readonly dlqOffset: number;
}

const START: Cursor = { offset: -1, dlqTopic: -1, dlqOffset: -1 };

function candidates(db: Db, subId: number, after: Cursor): Candidate[] {
  return db.all<Candidate>(
    `SELECT d.dead_letter_topic_id, d.dead_letter_offset, d.event_offset, d.event_id,
            d.event_appended_at, d.partition_key, e.body
       FROM dead_letters d
       JOIN topics dt ON dt.topic_id = d.dead_letter_topic_id
       JOIN events e ON e.event_key = (d.dead_letter_topic_id << ${OFFSET_BITS}) + d.dead_letter_offset
      WHERE d.subscription_id = ? AND d.redriven_at IS NULL
        AND (d.event_offset, d.dead_letter_topic_id, d.dead_letter_offset) > (?, ?, ?)
      ORDER BY d.event_offset, d.dead_letter_topic_id, d.dead_letter_offset
      LIMIT ${CHUNK}`,
    subId,
    after.offset,
    after.dlqTopic,
    after.dlqOffset,
  );
}

function matcher(req: RedriveRequest): (c: Candidate) => boolean {
  const ids = req.ids === undefined ? null : new Set(req.ids);
  const filter: EventPredicate | null = req.filter === undefined ? null : compileFilter(req.filter);
  return (c) =>
    (ids === null || ids.has(c.event_id)) &&
    (filter === null || filter(JSON.parse(c.body) as Record<string, unknown>));
}

function cursorOf(c: Candidate): Cursor {
  return {
    offset: c.event_offset,
    dlqTopic: c.dead_letter_topic_id,
    dlqOffset: c.dead_letter_offset,
  };
}

interface Progress {
  matched: number;
  moved: number;
  readonly keys: Set<string>;
  cursor: Cursor;
  done: boolean;
}

function moveOne(tx: JobTx, sub: SubscriptionState, first: number, c: Candidate): void {
  tx.db.run(
    "UPDATE dead_letters SET redriven_at = ? WHERE dead_letter_topic_id = ? AND dead_letter_offset = ?",
    tx.now,
    c.dead_letter_topic_id,
    c.dead_letter_offset,
  );
  // Still ahead of the cursor and still stored: the position will deliver it anyway.
  if (c.event_offset >= Math.max(sub.position, first)) return;
  // Leased again since (after a seek back) and held in memory: as a row, it keeps the redrive
  // out as it always did.
  materialize(tx, sub.id, c.event_offset);
  const key = sub.config.ordering === "key" ? c.partition_key : null;
  const state = key !== null && keyBusy(tx, sub.id, key) ? "blocked" : "waiting";
  if (!insertDelivery(tx.db, sub.id, c.event_offset, key, state, 0, 0, tx.now, c.event_appended_at))
    return;
  tx.db.run(
    `UPDATE deliveries SET dead_letter_topic_id = ?, dead_letter_offset = ?
      WHERE subscription_id = ? AND event_offset = ?`,
    c.dead_letter_topic_id,
    c.dead_letter_offset,
    sub.id,
    c.event_offset,
  );
}

function step(
  db: Db,
  tx: JobTx | null,
  name: string,
  req: RedriveRequest,
  progress: Progress,
): void {
  const sub = loadSubscription(db, name);
  if (sub === null) throw subscriptionNotFound(name);
  const first = loadTopicById(db, sub.topicId)?.firstOffset ?? 0;
  const matches = matcher(req);
  const limit = req.limit ?? Number.POSITIVE_INFINITY;
  const rows = candidates(db, sub.id, progress.cursor);
  for (const c of rows) {
    progress.cursor = cursorOf(c);
    if (progress.matched >= limit) break;
    if (!matches(c)) continue;
    progress.matched++;
    if (c.partition_key !== null) progress.keys.add(c.partition_key);
    if (tx !== null) {
      moveOne(tx, sub, first, c);
      progress.moved++;
    }
  }
  progress.done = rows.length < CHUNK || progress.matched >= limit;
}

export async function redrive(
  ctx: EngineContext,
  name: string,
  req: RedriveRequest,
): Promise<RedriveResult> {
  const progress: Progress = { matched: 0, moved: 0, keys: new Set(), cursor: START, done: false };
  while (!progress.done) {
    if (req.dryRun === true) step(ctx.db, null, name, req, progress);
    else
      await ctx.writer.submit(CHUNK, (tx) => {
        step(tx.db, tx, name, req, progress);
        tx.afterCommit(() => ctx.subscriptionChanged(name));
      });
  }
  return { matched: progress.matched, keys: progress.keys.size, moved: progress.moved };
}
