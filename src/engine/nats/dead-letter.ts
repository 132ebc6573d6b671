/**
 * Dead-lettering on JetStream, which cannot append to one stream and settle a consumer of
 * another atomically: the copy is appended to the dead-letter topic with a `Nats-Msg-Id`
 * derived from the subscription, its epoch and the delivery's source sequence, and only then
 * is the original terminated. A retry after a crash in between appends nothing new (the id
 * is a duplicate inside the dead-letter stream's window) and terminates the original.
 */
import { TOPIC_DEFAULTS } from "../../core/config.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { NatsContext } from "./context.js";
import type { PublishItem, PublishOutcome } from "./publisher.js";

export const MAX_ATTEMPTS_REASON = "max attempts exceeded";

const DEAD_LETTER_ATTRIBUTES = [
  "deadletterreason",
  "deadlettersubscription",
  "deadletterattempts",
  "deadletteroffset",
];

export interface DeadLetterCopy {
  readonly record: LogRecord;
  readonly reason: string;
  readonly attempts: number;
  /** Unique per dead-lettering of one delivery: the `Nats-Msg-Id` of the copy. */
  readonly msgId: string;
}

/** The event with the dead-letter attributes set (and earlier ones replaced). */
export function deadLetterBody(copy: DeadLetterCopy, subscription: string): string {
  const event = stripDeadLetterAttributes(JSON.parse(copy.record.body) as Record<string, unknown>);
  event.deadletterreason = copy.reason;
  event.deadlettersubscription = subscription;
  event.deadletterattempts = copy.attempts;
  event.deadletteroffset = copy.record.offset;
  return JSON.stringify(event);
}

export function stripDeadLetterAttributes(event: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...event };
  for (const name of DEAD_LETTER_ATTRIBUTES) delete copy[name];
  return copy;
}

/**
 * Appends the copies to `topic`, creating it with defaults if someone deleted it; answers
 * whether each copy is stored (a duplicate of an earlier attempt counts as stored).
 */
export async function appendDeadLetters(
  ctx: NatsContext,
  topic: string,
  subscription: string,
  copies: readonly DeadLetterCopy[],
  createTopic: (name: string) => Promise<void>,
): Promise<boolean[]> {
  const subject = ctx.names.topicSubject(topic);
  const items: PublishItem[] = copies.map((c) => ({
    body: deadLetterBody(c, subscription),
    key: c.record.key,
    msgId: c.msgId,
  }));
  let outcomes: PublishOutcome[] = await ctx.publisher.publish(subject, items);
  if (outcomes.some((o) => o.kind === "no-stream")) {
    await createTopic(topic);
    outcomes = await ctx.publisher.publish(subject, items);
  }
  return outcomes.map((o) => o.kind === "stored");
}

/** What a dead-letter topic the engine has to re-create gets: defaults, router-owned. */
export const DEFAULT_DEAD_LETTER_TOPIC = {
  retention: {},
  dedupeWindowMs: TOPIC_DEFAULTS.dedupeWindowMs,
  maxEventBytes: TOPIC_DEFAULTS.maxEventBytes,
  owner: "router",
} as const;
