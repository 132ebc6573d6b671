/**
 * Reads every message of a subject once, through an ephemeral consumer without acks, in
 * batches: for the rare whole-subject passes (redrive looks through a dead-letter topic and
 * a subscription's redrive history).
 */
import type { Msg } from "@nats-io/transport-node";
import type { NatsContext } from "./context.js";
import { isJsError, JS_CODES } from "./errors.js";
import type { Puller } from "./puller.js";

const BATCH = 1_000;

export async function scanSubject(
  ctx: NatsContext,
  puller: Puller,
  stream: string,
  subject: string,
  onMessage: (msg: Msg) => void,
): Promise<void> {
  let info: Awaited<ReturnType<typeof ctx.jsm.consumers.add>>;
  try {
    info = await ctx.jsm.consumers.add(stream, {
      ack_policy: "none",
      deliver_policy: "all",
      filter_subject: subject,
      inactive_threshold: 60_000 * 1_000_000,
      mem_storage: true,
      num_replicas: 1,
    } as Parameters<typeof ctx.jsm.consumers.add>[1]);
  } catch (error) {
    // No stream (a dead-letter topic never created): nothing to read.
    if (isJsError(error, JS_CODES.streamNotFound)) return;
    throw error;
  }
  try {
    for (;;) {
      const got = await puller.pull(stream, info.name, { batch: BATCH }, onMessage);
      if (got < BATCH) return;
    }
  } finally {
    await ctx.jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
}
