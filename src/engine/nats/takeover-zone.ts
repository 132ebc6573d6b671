/**
 * What a new owner cannot know: deliveries its predecessor handed out and JetStream still
 * holds unacked — the stream sequences above each consumer's ack floor, up to the last one
 * delivered, that this owner has not seen itself. Their ackIds (issued by a node that closed
 * or died) stay valid: a settle for one is applied straight to JetStream with an ack subject
 * rebuilt from the ackId. What cannot be told apart here: an ackId the predecessor had
 * already superseded by a redelivery is taken as current.
 */
import type { AckIdParts } from "../../core/ack-id.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { SettleStatus } from "../engine.js";
import { backoffDelayMs } from "./backoff.js";
import { consumerState } from "./consumers.js";
import type { NatsContext } from "./context.js";
import { MAX_ATTEMPTS_REASON } from "./dead-letter.js";
import { entryId, type Source } from "./delivery-table.js";
import { statusOf } from "./inbox.js";
import type { Acks } from "./js-acks.js";
import type { SubscriptionRecord } from "./metadata.js";
import { ackSubject, redrivenRecord } from "./records.js";
import { requestOne } from "./requests.js";

interface Range {
  /** First sequence not known to be acked. */
  readonly from: number;
  readonly to: number;
  /** The consumer's delivery sequence, which JetStream checks on a nak. */
  readonly dseq: number;
}

export type ZoneOp =
  | { readonly kind: "ack" }
  | { readonly kind: "nack"; readonly delayMs: number | null }
  | { readonly kind: "extend"; readonly leaseMs?: number }
  | { readonly kind: "reject"; readonly reason: string };

export interface ZoneDeps {
  readonly ctx: NatsContext;
  readonly acks: Acks;
  readonly rec: SubscriptionRecord;
  deadLetter(
    record: LogRecord,
    reply: string,
    reason: string,
    attempts: number,
    id: string,
  ): Promise<void>;
  counted(counter: "acked" | "deadLettered"): void;
}

/** How many of a predecessor's deliveries a new owner looks at for their ordering keys. */
const KEY_SCAN_LIMIT = 10_000;

export class TakeoverZone {
  readonly #ranges: Partial<Record<Source, Range>>;
  /** Zone deliveries settled through this owner: a second settle is `unknown`. */
  readonly #settled = new Set<string>();
  /** Ordering key of each zone delivery (key-ordered subscriptions). */
  readonly #keys = new Map<string, string>();

  private constructor(ranges: Partial<Record<Source, Range>>) {
    this.#ranges = ranges;
  }

  static empty(): TakeoverZone {
    return new TakeoverZone({});
  }

  /** The ordering key of a zone delivery, when known. */
  keyOf(id: string): string | null {
    return this.#keys.get(id) ?? null;
  }

  /** Per key, the zone deliveries of the topic that may still be in flight, in order. */
  keysInFlight(): Map<string, string[]> {
    const byKey = new Map<string, string[]>();
    for (const [id, key] of this.#keys) byKey.set(key, [...(byKey.get(key) ?? []), id]);
    return byKey;
  }

  /**
   * Reads the keys of the zone's topic messages (key-ordered subscriptions), so the new
   * owner can hold those keys until the predecessor's deliveries come back or run out.
   */
  async readKeys(ctx: NatsContext, rec: SubscriptionRecord): Promise<void> {
    const range = this.#ranges.topic;
    if (range === undefined || rec.config.ordering !== "key") return;
    const topic = rec.config.topic;
    const to = Math.min(range.to, range.from + KEY_SCAN_LIMIT - 1);
    const records = await ctx.reader.range(ctx.names.topicStream(topic), topic, range.from, to);
    for (const record of records)
      if (record.key !== null) this.#keys.set(entryId("topic", record.offset), record.key);
  }

  static async read(ctx: NatsContext, rec: SubscriptionRecord): Promise<TakeoverZone> {
    const name = rec.config.name;
    const [topic, redrive] = await Promise.all([
      consumerState(
        ctx,
        ctx.names.topicStream(rec.config.topic),
        ctx.names.topicConsumer(name, rec.epoch),
      ),
      consumerState(ctx, ctx.names.redriveStream, ctx.names.redriveConsumer(name, rec.epoch)),
    ]);
    const range = (s: typeof topic): Range | undefined =>
      s === null || s.deliveredSeq <= s.ackFloorSeq || s.numAckPending === 0
        ? undefined
        : { from: s.ackFloorSeq + 1, to: s.deliveredSeq, dseq: s.deliveredConsumerSeq };
    const ranges: Partial<Record<Source, Range>> = {};
    const t = range(topic);
    const r = range(redrive);
    if (t !== undefined) ranges.topic = t;
    if (r !== undefined) ranges.redrive = r;
    return new TakeoverZone(ranges);
  }

  covers(id: string, parts: AckIdParts): boolean {
    const source: Source = parts.ref === undefined ? "topic" : "redrive";
    const seq = parts.ref ?? parts.offset;
    const range = this.#ranges[source];
    return range !== undefined && seq >= range.from && seq <= range.to && !this.#settled.has(id);
  }

  async settle(deps: ZoneDeps, op: ZoneOp, parts: AckIdParts): Promise<SettleStatus> {
    const source: Source = parts.ref === undefined ? "topic" : "redrive";
    const seq = parts.ref ?? parts.offset;
    const id = entryId(source, seq);
    const range = this.#ranges[source];
    if (range === undefined || this.#settled.has(id)) return "unknown";
    const { ctx, rec } = deps;
    const name = rec.config.name;
    const subject = ackSubject({
      stream:
        source === "topic" ? ctx.names.topicStream(rec.config.topic) : ctx.names.redriveStream,
      consumer:
        source === "topic"
          ? ctx.names.topicConsumer(name, rec.epoch)
          : ctx.names.redriveConsumer(name, rec.epoch),
      deliveries: parts.lease,
      streamSeq: seq,
      consumerSeq: range.dseq,
    });
    const exhausted = op.kind === "nack" && parts.lease >= rec.config.maxAttempts;
    if (op.kind === "reject" || exhausted) {
      const record = await this.#record(ctx, rec, source, seq);
      if (record === null) return "unknown";
      const reason = op.kind === "reject" ? op.reason : MAX_ATTEMPTS_REASON;
      await deps.deadLetter(record, subject, reason, parts.lease, id);
      this.#settled.add(id);
      return "ok";
    }
    const kind = op.kind === "ack" ? "ack" : op.kind === "extend" ? "progress" : "nak";
    const delayMs =
      op.kind === "nack"
        ? (op.delayMs ?? backoffDelayMs(rec.config.backoff, parts.lease, Math.random))
        : 0;
    const [confirmed] = await deps.acks.confirm([{ subject, kind, delayMs }]);
    if (confirmed !== true) return "unknown";
    if (op.kind !== "extend") this.#settled.add(id);
    if (op.kind === "ack") deps.counted("acked");
    return "ok";
  }

  async #record(
    ctx: NatsContext,
    rec: SubscriptionRecord,
    source: Source,
    seq: number,
  ): Promise<LogRecord | null> {
    const topic = rec.config.topic;
    if (source === "topic") {
      const [record] = await ctx.reader.range(ctx.names.topicStream(topic), topic, seq, seq);
      return record ?? null;
    }
    const reply = await requestOne(
      ctx.nc,
      ctx.inbox,
      { subject: `$JS.API.DIRECT.GET.${ctx.names.redriveStream}`, data: `{"seq":${seq}}` },
      ctx.timeoutMs,
    );
    if (reply === undefined || statusOf(reply) !== 0) return null;
    return redrivenRecord(topic, reply);
  }
}
