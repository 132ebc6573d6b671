/**
 * Reading the log: pages by offset or append time, and tails that follow new appends. Reads
 * run on the engine's one connection between commits, so they always see committed state.
 */
import type { LogPosition } from "../../core/positions.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { LogPage } from "../engine.js";
import type { EngineContext } from "./context.js";
import type { Db } from "./database.js";
import { closedError, topicNotFound } from "./errors.js";
import { offsetAtTime, readRange } from "./events.js";
import { topicKey } from "./notifier.js";
import { loadTopic } from "./topic-state.js";

const TAIL_PAGE = 256;

export function readPage(db: Db, name: string, from: LogPosition, limit: number): LogPage {
  const topic = loadTopic(db, name);
  if (topic === null) throw topicNotFound(name);
  const start =
    "offset" in from
      ? Math.max(from.offset, topic.firstOffset)
      : offsetAtTime(db, topic.id, topic.firstOffset, topic.lastOffset, from.time);
  const records = readRange(db, topic.id, name, start, topic.lastOffset, limit);
  const last = records[records.length - 1];
  return { records, next: last === undefined ? start : last.offset + 1 };
}

/** Backlog first, then each new record as it is appended; ends on abort or engine close. */
export async function* tailTopic(
  ctx: EngineContext,
  name: string,
  from: LogPosition,
  signal: AbortSignal,
): AsyncGenerator<LogRecord> {
  let position = from;
  while (!signal.aborted) {
    if (ctx.isClosed()) return;
    const page = readPage(ctx.db, name, position, TAIL_PAGE);
    for (const record of page.records) {
      if (signal.aborted) return;
      yield record;
    }
    position = { offset: page.next };
    // No await between the read and registering the wait: no append can slip in between.
    if (page.records.length === 0)
      await ctx.notifier.wait([topicKey(name)], null, { waitMs: Number.POSITIVE_INFINITY, signal });
  }
}

export function assertOpen(ctx: EngineContext): void {
  if (ctx.isClosed()) throw closedError();
}
