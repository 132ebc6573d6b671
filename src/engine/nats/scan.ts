/**
 * Reads the messages of a subject once, through an ephemeral consumer without acks, in
 * batches: for the rare whole-subject passes (redrive looks through a dead-letter topic and
 * a subscription's redrive history), and for reads of a run of messages from a known stream
 * sequence on (a subject's stream from a version on), which stop once they have enough.
 */
import type { Msg } from "@nats-io/transport-node";
import type { NatsContext } from "./context.js";
import { isJsError, JS_CODES } from "./errors.js";
import type { Puller } from "./puller.js";

const BATCH = 1_000;

export interface ScanOptions {
  /** The first stream sequence to read; absent: the subject's first message. */
  readonly fromSeq?: number;
  /** Messages per pull request. */
  readonly batch?: number;
  /** Checked after each batch: true ends the scan. */
  readonly done?: () => boolean;
}

export async function scanSubject(
  ctx: NatsContext,
  puller: Puller,
  stream: string,
  subject: string,
  onMessage: (msg: Msg) => void,
  options: ScanOptions = {},
): Promise<void> {
  const batch = options.batch ?? BATCH;
  const start =
    options.fromSeq === undefined
      ? { deliver_policy: "all" }
      : { deliver_policy: "by_start_sequence", opt_start_seq: options.fromSeq };
  let info: Awaited<ReturnType<typeof ctx.jsm.consumers.add>>;
  try {
    info = await ctx.jsm.consumers.add(stream, {
      ack_policy: "none",
      ...start,
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
      const got = await puller.pull(stream, info.name, { batch }, onMessage);
      if (got < batch || options.done?.() === true) return;
    }
  } finally {
    await ctx.jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
}
