/**
 * The push attempt log on JetStream: one stream for the installation, a subject per
 * subscription, each record a message, JetStream keeping the newest `KEEP_PER_SUBSCRIPTION`
 * of each subject. Records are appended before the settle they came with (JetStream cannot
 * do both in one commit): a crash in between leaves an attempt logged whose delivery comes
 * back, never a settled delivery without its attempt.
 */
import type { StreamConfig } from "@nats-io/jetstream";
import type { AttemptQuery, AttemptRecord } from "../engine.js";
import type { NatsContext } from "./context.js";
import { isJsError, JS_CODES, unavailable } from "./errors.js";
import type { Names } from "./names.js";
import type { Puller } from "./puller.js";
import { scanSubject } from "./scan.js";

export const KEEP_PER_SUBSCRIPTION = 1_000;

export function attemptStreamConfig(names: Names, replicas: number): StreamConfig {
  return {
    name: names.attemptStream,
    subjects: [`${names.prefix}.at.>`],
    storage: "file",
    retention: "limits",
    num_replicas: replicas,
    max_msgs_per_subject: KEEP_PER_SUBSCRIPTION,
    allow_direct: true,
  } as StreamConfig;
}

export async function appendAttempts(
  ctx: NatsContext,
  sub: string,
  records: readonly AttemptRecord[] | undefined,
): Promise<void> {
  if (records === undefined || records.length === 0) return;
  const items = records.map((r) => ({ body: JSON.stringify(r), key: null, msgId: null }));
  const outcomes = await ctx.publisher.publish(ctx.names.attemptSubject(sub), items);
  if (outcomes.some((o) => o.kind !== "stored")) throw unavailable("logging push attempts");
}

/** The subscription's attempts, newest first. */
export async function queryAttempts(
  ctx: NatsContext,
  puller: Puller,
  sub: string,
  query: AttemptQuery,
): Promise<AttemptRecord[]> {
  const found: AttemptRecord[] = [];
  await scanSubject(ctx, puller, ctx.names.attemptStream, ctx.names.attemptSubject(sub), (msg) => {
    const record = JSON.parse(msg.string()) as AttemptRecord;
    if (query.eventId === undefined || record.eventId === query.eventId) found.push(record);
  });
  return found.reverse().slice(0, Math.max(0, query.limit));
}

export async function dropAttempts(ctx: NatsContext, sub: string): Promise<void> {
  try {
    await ctx.jsm.streams.purge(ctx.names.attemptStream, {
      filter: ctx.names.attemptSubject(sub),
    });
  } catch (error) {
    if (!isJsError(error, JS_CODES.streamNotFound)) throw error;
  }
}
