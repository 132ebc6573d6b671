/**
 * A subscription's two durable pull consumers, recreated under a new name on every seek:
 * one on the topic's stream, starting at the subscription's position, and one on its redrive
 * subject. Ack wait is the subscription's `ackTimeoutMs`; JetStream's `BackOff` is not used
 * (it replaces the ack wait and ignores naks), nor its `MaxDeliver` (the owner dead-letters
 * at `maxAttempts` itself, so a crash mid-way cannot lose an event without a dead letter).
 */
import type { ConsumerConfig } from "@nats-io/jetstream";
import type { StartPosition } from "../../core/positions.js";
import type { NatsContext } from "./context.js";
import { isJsError, JS_CODES, unavailable } from "./errors.js";
import { statusOf } from "./inbox.js";
import type { SubscriptionRecord } from "./metadata.js";
import { requestOne } from "./requests.js";

const NS_PER_MS = 1_000_000;

function common(ackTimeoutMs: number) {
  return {
    ack_policy: "explicit",
    ack_wait: ackTimeoutMs * NS_PER_MS,
    max_deliver: -1,
    max_ack_pending: -1,
    replay_policy: "instant",
  } as const;
}

export function topicConsumerConfig(ctx: NatsContext, rec: SubscriptionRecord): ConsumerConfig {
  return {
    ...common(rec.config.ackTimeoutMs),
    durable_name: ctx.names.topicConsumer(rec.config.name, rec.epoch),
    deliver_policy: "by_start_sequence",
    opt_start_seq: Math.max(1, rec.start),
  } as ConsumerConfig;
}

export function redriveConsumerConfig(ctx: NatsContext, rec: SubscriptionRecord): ConsumerConfig {
  return {
    ...common(rec.config.ackTimeoutMs),
    durable_name: ctx.names.redriveConsumer(rec.config.name, rec.epoch),
    deliver_policy: "new",
    filter_subject: ctx.names.redriveSubject(rec.config.name),
  } as ConsumerConfig;
}

export async function createConsumers(ctx: NatsContext, rec: SubscriptionRecord): Promise<void> {
  await ctx.jsm.consumers.add(
    ctx.names.topicStream(rec.config.topic),
    topicConsumerConfig(ctx, rec),
  );
  await ctx.jsm.consumers.add(ctx.names.redriveStream, redriveConsumerConfig(ctx, rec));
}

/** Applies a changed `ackTimeoutMs` to the current consumers. */
export async function updateAckWait(ctx: NatsContext, rec: SubscriptionRecord): Promise<void> {
  const ackWait = rec.config.ackTimeoutMs * NS_PER_MS;
  await ctx.jsm.consumers.update(
    ctx.names.topicStream(rec.config.topic),
    ctx.names.topicConsumer(rec.config.name, rec.epoch),
    { ack_wait: ackWait },
  );
  await ctx.jsm.consumers.update(
    ctx.names.redriveStream,
    ctx.names.redriveConsumer(rec.config.name, rec.epoch),
    { ack_wait: ackWait },
  );
}

export async function deleteConsumers(ctx: NatsContext, rec: SubscriptionRecord): Promise<void> {
  const gone = async (stream: string, name: string) => {
    try {
      await ctx.jsm.consumers.delete(stream, name);
    } catch (error) {
      const code = isJsError(error, JS_CODES.consumerNotFound)
        ? "gone"
        : isJsError(error, JS_CODES.streamNotFound)
          ? "gone"
          : "fail";
      if (code === "fail") throw error;
    }
  };
  await gone(
    ctx.names.topicStream(rec.config.topic),
    ctx.names.topicConsumer(rec.config.name, rec.epoch),
  );
  await gone(ctx.names.redriveStream, ctx.names.redriveConsumer(rec.config.name, rec.epoch));
}

/** The next offset a subscription starting at `start` considers (as on the embedded engine). */
export async function startOffset(
  ctx: NatsContext,
  topic: string,
  start: StartPosition,
): Promise<number> {
  const stream = ctx.names.topicStream(topic);
  const state = await ctx.reader.state(stream, topic);
  if (start === "earliest") return state.first;
  if (start === "latest") return state.last + 1;
  if ("offset" in start) return Math.max(start.offset, state.first);
  return ctx.reader.firstAtOrAfter(stream, topic, Date.parse(start.time));
}

export interface ConsumerState {
  /** Last stream sequence handed to the consumer's clients (start - 1 before any). */
  readonly deliveredSeq: number;
  readonly deliveredConsumerSeq: number;
  readonly ackFloorSeq: number;
  readonly numPending: number;
  readonly numAckPending: number;
}

interface ConsumerInfoJson {
  readonly delivered?: { readonly consumer_seq: number; readonly stream_seq: number };
  readonly ack_floor?: { readonly consumer_seq: number; readonly stream_seq: number };
  readonly num_pending?: number;
  readonly num_ack_pending?: number;
  readonly error?: { readonly err_code?: number; readonly description?: string };
}

/** A consumer's state, or null when it does not exist. */
export async function consumerState(
  ctx: NatsContext,
  stream: string,
  consumer: string,
): Promise<ConsumerState | null> {
  const reply = await requestOne(
    ctx.nc,
    ctx.inbox,
    { subject: `$JS.API.CONSUMER.INFO.${stream}.${consumer}` },
    ctx.timeoutMs,
  );
  if (reply === undefined || statusOf(reply) === 503)
    throw unavailable(`reading consumer ${consumer}`);
  const info = JSON.parse(reply.string()) as ConsumerInfoJson;
  if (info.error !== undefined) {
    const code = info.error.err_code;
    if (code === JS_CODES.consumerNotFound || code === JS_CODES.streamNotFound) return null;
    throw unavailable(`reading consumer ${consumer}: ${info.error.description}`);
  }
  return {
    deliveredSeq: info.delivered?.stream_seq ?? 0,
    deliveredConsumerSeq: info.delivered?.consumer_seq ?? 0,
    ackFloorSeq: info.ack_floor?.stream_seq ?? 0,
    numPending: info.num_pending ?? 0,
    numAckPending: info.num_ack_pending ?? 0,
  };
}
