/** A topic's config as the JetStream stream that holds its events. */
import type { StreamConfig } from "@nats-io/jetstream";
import type { TopicConfig } from "../../core/config.js";
import type { NatsContext } from "./context.js";
import { isJsError, JS_CODES } from "./errors.js";

const NS_PER_MS = 1_000_000;
/** JetStream's own default dedupe window, used when the topic has none (no ids are sent then). */
const DEFAULT_WINDOW_MS = 120_000;
/** JetStream refuses shorter windows: a shorter `dedupeWindowMs` dedupes for this long. */
export const MIN_WINDOW_MS = 100;

export function streamConfigOf(
  ctx: Pick<NatsContext, "names" | "replicas">,
  topic: TopicConfig,
): StreamConfig {
  const { maxAgeMs, maxBytes, maxEvents } = topic.retention;
  const window =
    topic.dedupeWindowMs > 0 ? Math.max(MIN_WINDOW_MS, topic.dedupeWindowMs) : DEFAULT_WINDOW_MS;
  // JetStream refuses a dedupe window longer than the maximum age.
  const duplicates = maxAgeMs !== undefined && maxAgeMs > 0 ? Math.min(window, maxAgeMs) : window;
  return {
    name: ctx.names.topicStream(topic.name),
    subjects: [ctx.names.topicSubject(topic.name)],
    storage: "file",
    retention: "limits",
    discard: "old",
    num_replicas: ctx.replicas,
    max_age: (maxAgeMs ?? 0) * NS_PER_MS,
    max_bytes: maxBytes ?? -1,
    max_msgs: maxEvents ?? -1,
    duplicate_window: duplicates * NS_PER_MS,
    allow_direct: true,
  } as StreamConfig;
}

/** Creates the topic's stream, or updates it to `topic` when it exists. */
export async function ensureTopicStream(ctx: NatsContext, topic: TopicConfig): Promise<void> {
  const config = streamConfigOf(ctx, topic);
  try {
    await ctx.jsm.streams.add(config);
  } catch (error) {
    if (!isJsError(error, JS_CODES.streamNameInUse)) throw error;
    await ctx.jsm.streams.update(config.name, config);
  }
}

export async function deleteTopicStream(ctx: NatsContext, topic: string): Promise<void> {
  try {
    await ctx.jsm.streams.delete(ctx.names.topicStream(topic));
  } catch (error) {
    if (!isJsError(error, JS_CODES.streamNotFound)) throw error;
  }
}
