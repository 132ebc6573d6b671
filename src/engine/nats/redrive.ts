/**
 * Redrive on JetStream: the subscription's dead letters are found by scanning its dead-letter
 * topic; each is appended, as the original event, to the subscription's subject of the
 * redrive stream, whose consumer the owner leases from before new events. The redrive
 * subject is also the record of what was redriven (`Sy-Dlq` names the dead letter), so each
 * dead-lettering moves at most once, across restarts and nodes; its `Nats-Msg-Id` covers two
 * redrives racing.
 */
import type { Msg } from "@nats-io/transport-node";
import { compileFilter } from "../../core/filter.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { RedriveRequest, RedriveResult } from "../engine.js";
import type { NatsContext } from "./context.js";
import { stripDeadLetterAttributes } from "./dead-letter.js";
import { escapeName } from "./names.js";
import type { Puller } from "./puller.js";
import { DLQ_HEADER, keyOf, OFFSET_HEADER, parseAckSubject, TIME_HEADER } from "./records.js";
import { scanSubject } from "./scan.js";

interface DeadLetter {
  /** Where the dead letter sits: `{escaped dead-letter topic}:{offset}`. */
  readonly ref: string;
  /** The original event, without the dead-letter attributes. */
  readonly event: Record<string, unknown>;
  readonly originalOffset: number;
  readonly key: string | null;
  readonly appendedAt: number;
}

export interface RedriveScope {
  readonly ctx: NatsContext;
  readonly puller: Puller;
  readonly subscription: string;
  readonly topic: string;
  readonly deadLetterTopic: string;
}

export async function redrive(scope: RedriveScope, req: RedriveRequest): Promise<RedriveResult> {
  const chosen = select(await pendingDeadLetters(scope), req);
  const keys = new Set(chosen.flatMap((d) => (d.key === null ? [] : [d.key]))).size;
  if (req.dryRun === true || chosen.length === 0) return { matched: chosen.length, keys, moved: 0 };
  const moved = await append(scope, chosen);
  return { matched: chosen.length, keys, moved };
}

/**
 * How many dead letters a redrive would find now. A scan of the dead-letter topic and the
 * redrive subject, like a redrive's: `/metrics` pays it once per subscription per scrape.
 */
export async function pendingDeadLetterCount(scope: RedriveScope): Promise<number> {
  return (await pendingDeadLetters(scope)).length;
}

/** This subscription's dead letters that were never redriven, in dead-letter order. */
async function pendingDeadLetters(scope: RedriveScope): Promise<DeadLetter[]> {
  const { ctx, puller, subscription } = scope;
  const redriven = new Set<string>();
  await scanSubject(
    ctx,
    puller,
    ctx.names.redriveStream,
    ctx.names.redriveSubject(subscription),
    (msg) => {
      const ref = msg.headers?.get(DLQ_HEADER);
      if (ref) redriven.add(ref);
    },
  );
  const found: DeadLetter[] = [];
  const prefix = `${escapeName(scope.deadLetterTopic)}:`;
  const dlqStream = ctx.names.topicStream(scope.deadLetterTopic);
  await scanSubject(
    ctx,
    puller,
    dlqStream,
    ctx.names.topicSubject(scope.deadLetterTopic),
    (msg) => {
      const dead = deadLetterOf(msg, prefix, subscription);
      if (dead !== null && !redriven.has(dead.ref)) found.push(dead);
    },
  );
  return found;
}

function deadLetterOf(msg: Msg, prefix: string, subscription: string): DeadLetter | null {
  const info = parseAckSubject(msg.reply ?? "");
  if (info === null) return null;
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(msg.string()) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (event.deadlettersubscription !== subscription) return null;
  const originalOffset = Number(event.deadletteroffset);
  if (!Number.isSafeInteger(originalOffset)) return null;
  return {
    ref: `${prefix}${info.streamSeq}`,
    event: stripDeadLetterAttributes(event),
    originalOffset,
    key: keyOf(msg),
    appendedAt: info.timestampMs,
  };
}

function select(found: readonly DeadLetter[], req: RedriveRequest): DeadLetter[] {
  const ids = req.ids === undefined ? null : new Set(req.ids);
  const matches = req.filter === undefined ? () => true : compileFilter(req.filter);
  const chosen = found
    .filter((d) => (ids === null || ids.has(String(d.event.id))) && matches(d.event))
    // Original order per key: oldest original first.
    .sort((a, b) => a.originalOffset - b.originalOffset);
  return req.limit === undefined ? chosen : chosen.slice(0, Math.max(0, req.limit));
}

/** Appends the originals (from the topic when retention kept them) to the redrive subject. */
async function append(scope: RedriveScope, chosen: readonly DeadLetter[]): Promise<number> {
  const { ctx } = scope;
  const originals = await originalRecords(scope, chosen);
  const items = chosen.map((d, i) => {
    const record = originals[i] ?? fallbackRecord(scope.topic, d);
    return {
      body: record.body,
      key: record.key,
      msgId: `${scope.subscription}:${d.ref}`,
      headers: {
        [DLQ_HEADER]: d.ref,
        [OFFSET_HEADER]: String(record.offset),
        [TIME_HEADER]: String(record.appendedAt),
      },
    };
  });
  const outcomes = await ctx.publisher.publish(ctx.names.redriveSubject(scope.subscription), items);
  return outcomes.filter((o) => o.kind === "stored" && !o.duplicate).length;
}

async function originalRecords(
  scope: RedriveScope,
  chosen: readonly DeadLetter[],
): Promise<(LogRecord | undefined)[]> {
  const stream = scope.ctx.names.topicStream(scope.topic);
  return Promise.all(
    chosen.map(async (d) => {
      const [record] = await scope.ctx.reader
        .range(stream, scope.topic, d.originalOffset, d.originalOffset)
        .catch(() => []);
      const sameEvent =
        record !== undefined && JSON.parse(record.body).id === d.event.id ? record : undefined;
      return sameEvent;
    }),
  );
}

function fallbackRecord(topic: string, d: DeadLetter): LogRecord {
  return {
    topic,
    offset: d.originalOffset,
    appendedAt: d.appendedAt,
    key: d.key,
    body: JSON.stringify(d.event),
  };
}
