/**
 * The one node that serves a subscription's deliveries right now. It pulls from the
 * subscription's consumers into its delivery table and hands out, settles, seeks and counts;
 * every other node forwards those calls here (see `ownership.ts`). JetStream holds all that
 * must survive this node: which messages are unacked, delivery counts, nack delays.
 */
import { type AckIdParts, decodeAckId, encodeAckId } from "../../core/ack-id.js";
import { compileFilter } from "../../core/filter.js";
import type { StartPosition } from "../../core/positions.js";
import type {
  Delivery,
  RedriveRequest,
  RedriveResult,
  Settled,
  SubscriptionStats,
} from "../engine.js";
import { createConsumers, deleteConsumers, startOffset } from "./consumers.js";
import { MAX_ATTEMPTS_REASON } from "./dead-letter.js";
import {
  DeliveryTable,
  type Entry,
  entryId,
  REDELIVERY_GRACE_MS,
  type Source,
} from "./delivery-table.js";
import { subscriptionNotFound } from "./errors.js";
import type { SubscriptionRecord } from "./metadata.js";
import { findDelivery, type SettleOp, settle } from "./owner-settle.js";
import { type OwnerDeps, OwnerState } from "./owner-state.js";
import { ownerStats } from "./owner-stats.js";
import { type AckInfo, parseAckSubject, recordFromPulled } from "./records.js";
import { redrive } from "./redrive.js";
import { TakeoverZone } from "./takeover-zone.js";

export type { SettleOp } from "./owner-settle.js";
export type { OwnerDeps } from "./owner-state.js";

export interface LeaseCall {
  readonly max: number;
  readonly waitMs: number;
  readonly leaseMs?: number;
  readonly signal?: AbortSignal;
  /** Stop adding deliveries once their bodies reach this many bytes (replies to other nodes). */
  readonly budgetBytes?: number;
}

/** Held messages beyond which the owner stops pulling (a hot key blocks the keys behind it). */
const HELD_CAP = 10_000;
/** A waiting lease re-checks at least this often (redrive redeliveries, lease expiries). */
const WAIT_SLICE_MS = 1_000;
const COUNTER_FLUSH_MS = 1_000;
const LONG_POLL_MARGIN_MS = 1_000;
const LONG_POLL_MAX_MS = 30_000;
const TAKEOVER_MARGIN_MS = 1_000;
const LONG_POLL_BATCH = 256;
/** How often a lease looks at the redrive consumer when nothing says it has messages. */
const REDRIVE_CHECK_MS = 1_000;

export class SubscriptionOwner {
  readonly name: string;
  readonly #s: OwnerState;
  #longPoll: Promise<number> | null = null;
  #timer: NodeJS.Timeout | undefined;
  /** The redrive consumer may have messages: pull it before the topic's. */
  #redriveDue = true;
  #redriveCheckedAt = 0;

  private constructor(state: OwnerState) {
    this.name = state.name;
    this.#s = state;
  }

  /** Takes over a subscription: counters from KV, and what JetStream has outstanding. */
  static async start(deps: OwnerDeps, rec: SubscriptionRecord): Promise<SubscriptionOwner> {
    const counters = (await deps.ctx.metadata.counters.get(rec.config.name))?.value ?? {
      delivered: 0,
      acked: 0,
      deadLettered: 0,
    };
    const state = new OwnerState(deps, rec, counters);
    state.zone = await TakeoverZone.read(deps.ctx, rec);
    await state.zone.readKeys(deps.ctx, rec);
    // By then JetStream has redelivered every lease a dead predecessor had handed out.
    const until = Date.now() + rec.config.ackTimeoutMs + TAKEOVER_MARGIN_MS;
    state.table.blockKeys(state.zone.keysInFlight(), until);
    const owner = new SubscriptionOwner(state);
    deps.ctx.closing.addEventListener("abort", () => state.waker.notify());
    owner.#timer = setInterval(() => owner.#tick(), state.tickMs());
    owner.#timer.unref();
    return owner;
  }

  // Leasing.

  async lease(call: LeaseCall): Promise<Delivery[]> {
    const s = this.#s;
    const deadline = Date.now() + Math.max(0, call.waitMs);
    const leaseMs = call.leaseMs ?? s.config.ackTimeoutMs;
    for (;;) {
      if (s.stopped || call.signal?.aborted || s.deps.ctx.closed) return [];
      await this.#expireLeases();
      const got = await this.#takeOrPull(call, leaseMs);
      await s.settleBackground();
      const out = got.length > 0 ? await this.#handOut(got, call.signal) : [];
      if (out.length > 0) return out;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.#wait(Math.min(left, this.#untilNextExpiry(), WAIT_SLICE_MS), left, call.signal);
    }
  }

  /** Held entries first, then the redrive consumer, then the topic's. */
  async #takeOrPull(call: LeaseCall, leaseMs: number): Promise<Entry[]> {
    const s = this.#s;
    const room = Math.min(call.max, s.config.maxInFlight - s.inFlight(Date.now()));
    if (room <= 0) return [];
    let budget = call.budgetBytes ?? Number.POSITIVE_INFINITY;
    const fits = (e: Entry) => {
      if (budget <= 0) return false;
      budget -= e.record.body.length;
      return true;
    };
    const take = (n: number) => s.table.take(n, Date.now() + leaseMs, fits);
    const got = take(room);
    // A standing long pull is already bringing what comes next: answer without a round trip.
    if (got.length > 0 && this.#longPoll !== null) return got;
    if (got.length < room && !s.stopped && this.#redriveDue) {
      const want = room - got.length;
      // Nothing more there now: look again after a redrive, a nack of one, or a while.
      if ((await this.#pull("redrive", want)) < want) this.#redriveDue = false;
      got.push(...take(room - got.length));
    }
    while (got.length < room && s.table.heldCount < HELD_CAP && !s.stopped) {
      const want = room - got.length;
      const received = await this.#pull("topic", want);
      got.push(...take(room - got.length));
      if (received < want || budget <= 0) break;
    }
    return got;
  }

  #pull(source: Source, batch: number, expiresMs?: number): Promise<number> {
    const { ctx, puller } = this.#s.deps;
    const rec = this.#s.rec;
    const stream =
      source === "topic" ? ctx.names.topicStream(rec.config.topic) : ctx.names.redriveStream;
    const consumer =
      source === "topic"
        ? ctx.names.topicConsumer(this.name, rec.epoch)
        : ctx.names.redriveConsumer(this.name, rec.epoch);
    const options = expiresMs === undefined ? { batch } : { batch, expiresMs };
    return puller.pull(stream, consumer, options, (msg) => {
      const reply = msg.reply ?? "";
      const info = parseAckSubject(reply);
      // A pull on a consumer a seek replaced: its messages belong to no current delivery.
      if (info === null || info.consumer !== consumer) return;
      this.#accept(source, info, recordFromPulled(rec.config.topic, source, msg, info), reply);
    });
  }

  /** A message JetStream delivered to this owner. */
  #accept(source: Source, info: AckInfo, record: Entry["record"], reply: string): void {
    const s = this.#s;
    const serverUntil = Date.now() + s.config.ackTimeoutMs;
    const id = entryId(source, info.streamSeq);
    const known = s.table.get(id);
    if (known !== undefined && info.deliveries <= known.dc) return;
    if (known === undefined && s.table.wasSettled(id)) {
      // Settled here, and JetStream lost that (see `wasSettled`): settle it again, unseen.
      s.track(s.deps.acks.confirm([{ subject: reply, kind: "ack" }]));
      return;
    }
    if (info.deliveries > s.config.maxAttempts) {
      const entry = known ?? newEntry(source, info, record, reply, serverUntil);
      entry.dc = info.deliveries;
      entry.reply = reply;
      s.track(s.deadLetter([entry], MAX_ATTEMPTS_REASON, (e) => e.dc - 1));
      return;
    }
    if (known !== undefined) {
      s.table.redelivered(known, info.deliveries, reply, serverUntil);
    } else if (s.config.filter !== null && !s.matches(JSON.parse(record.body))) {
      // Events the filter passes over count as acked.
      s.track(s.deps.acks.confirm([{ subject: reply, kind: "ack" }]));
      return;
    } else {
      s.table.addHeld(newEntry(source, info, record, reply, serverUntil));
    }
    s.waker.notify();
  }

  async #handOut(taken: Entry[], signal?: AbortSignal): Promise<Delivery[]> {
    const s = this.#s;
    const now = Date.now();
    // JetStream's count is the attempt: one past maxAttempts is dead-lettered, never handed out.
    const over = taken.filter((e) => e.dc > s.config.maxAttempts);
    if (over.length > 0) s.track(s.deadLetter(over, MAX_ATTEMPTS_REASON, (e) => e.dc - 1));
    const entries = taken.filter((e) => e.dc <= s.config.maxAttempts);
    if (entries.length === 0) return [];
    // A lease longer than JetStream's ack wait (or a message held a while) needs the
    // server's clock reset now, or it would redeliver under the client's feet.
    const refresh = entries.filter((e) => e.serverUntil - now <= s.config.ackTimeoutMs / 2);
    if (refresh.length > 0) {
      await s.deps.acks.confirm(refresh.map((e) => ({ subject: e.reply, kind: "progress" })));
      for (const e of refresh) e.serverUntil = now + s.config.ackTimeoutMs;
    }
    if (signal?.aborted) {
      for (const e of entries) s.table.untake(e);
      s.waker.notify();
      return [];
    }
    s.count("delivered", entries.length);
    return entries.map((e) => ({ ackId: this.#ackIdOf(e), attempt: e.dc, record: e.record }));
  }

  #ackIdOf(e: Entry): string {
    const parts: AckIdParts = { epoch: this.#s.rec.epoch, offset: e.record.offset, lease: e.dc };
    return encodeAckId(e.source === "redrive" ? { ...parts, ref: e.seq } : parts);
  }

  /**
   * Lets leases nobody received go back, as if never handed out: the entry is held again
   * under the same delivery (same attempt), keeps its key, and the tick keeps it alive at
   * JetStream until the next lease takes it.
   */
  release(ackIds: readonly string[]): Settled[] {
    const s = this.#s;
    const results: Settled[] = [];
    for (const ackId of ackIds) {
      const found = findDelivery(s, decodeAckId(ackId));
      if (found.entry !== undefined && found.status === "ok") {
        s.table.untake(found.entry);
        s.count("delivered", -1);
      }
      // A predecessor's delivery cannot be taken back here: its lease runs its course.
      results.push({ ackId, status: found.status === "zone" ? "unknown" : found.status });
    }
    s.waker.notify();
    return results;
  }

  /** Expired leases go back to JetStream (nak) or, out of attempts, to the dead letters. */
  async #expireLeases(): Promise<void> {
    const s = this.#s;
    const now = Date.now();
    const expired = s.table.leased().filter((e) => e.leaseUntil <= now && !e.naked && !e.busy);
    if (expired.length === 0) return;
    const max = s.config.maxAttempts;
    const dead = expired.filter((e) => e.dc >= max);
    const retry = expired.filter((e) => e.dc < max);
    for (const e of retry) {
      e.naked = true;
      e.redeliverBy = now + s.config.ackTimeoutMs + REDELIVERY_GRACE_MS;
    }
    await Promise.all([
      s.deadLetter(dead, MAX_ATTEMPTS_REASON, (e) => e.dc),
      retry.length > 0
        ? s.deps.acks.confirm(retry.map((e) => ({ subject: e.reply, kind: "nak" })))
        : undefined,
    ]);
  }

  #untilNextExpiry(): number {
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#s.table.leased()) if (!e.naked) next = Math.min(next, e.leaseUntil - now);
    return Math.max(1, next);
  }

  /**
   * Waits for a held message, a long pull's message, a wake-up or `ms`. The long pull
   * outlives the wait (`left` + a margin): a nats-server 2.9 pull request that expires just
   * as a message is handed to it can swallow the message until its ack wait, so expiries
   * must not line up with lease expiries. A message it brings later is held for the next
   * lease call.
   */
  async #wait(ms: number, left: number, signal?: AbortSignal): Promise<void> {
    const s = this.#s;
    const abort = () => s.waker.notify();
    signal?.addEventListener("abort", abort);
    try {
      if (this.#longPoll === null && s.table.heldCount < HELD_CAP) {
        // A standing pull for up to `batch` messages: the first wakes this lease, the rest
        // are held for the next lease calls, which then need no round trip to JetStream.
        const expires = Math.min(LONG_POLL_MAX_MS, left + LONG_POLL_MARGIN_MS);
        const room = s.config.maxInFlight - s.inFlight(Date.now());
        const batch = Math.max(1, Math.min(LONG_POLL_BATCH, room));
        const poll = this.#pull("topic", batch, expires);
        this.#longPoll = poll;
        void poll.finally(() => {
          if (this.#longPoll === poll) this.#longPoll = null;
        });
      }
      await s.waker.wait(ms);
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  // Settling, seek, redrive, stats, config.

  settle(op: SettleOp, ackIds: readonly string[]): Promise<Settled[]> {
    return settle(this.#s, op, ackIds);
  }

  /** Recreates the consumers under a new epoch at the new position; every ackId expires. */
  async seek(to: StartPosition): Promise<number> {
    const s = this.#s;
    const { ctx } = s.deps;
    for (;;) {
      const current = await ctx.metadata.subscriptions.get(this.name);
      if (current === null) throw subscriptionNotFound(this.name);
      const position = await startOffset(ctx, current.value.config.topic, to);
      const next: SubscriptionRecord = {
        ...current.value,
        epoch: current.value.epoch + 1,
        start: position,
      };
      await createConsumers(ctx, next);
      if ((await ctx.metadata.subscriptions.update(this.name, next, current.revision)) === null) {
        await deleteConsumers(ctx, next).catch(() => undefined);
        continue;
      }
      await deleteConsumers(ctx, current.value).catch(() => undefined);
      s.rec = next;
      s.table = new DeliveryTable(next.config.ordering === "key");
      s.zone = TakeoverZone.empty();
      s.waker.notify();
      return position;
    }
  }

  redrive(req: RedriveRequest): Promise<RedriveResult> {
    const s = this.#s;
    const scope = {
      ctx: s.deps.ctx,
      puller: s.deps.puller,
      subscription: this.name,
      topic: s.config.topic,
      deadLetterTopic: s.config.deadLetterTopic,
    };
    return redrive(scope, req).finally(() => {
      this.#redriveDue = true;
      s.waker.notify();
    });
  }

  stats(): Promise<SubscriptionStats> {
    return ownerStats(this.#s);
  }

  /** Takes a changed config (another node's put): filter, ordering, limits. */
  async reload(): Promise<void> {
    const s = this.#s;
    const current = await s.deps.ctx.metadata.subscriptions.get(this.name);
    if (current === null) return;
    const before = s.config;
    const config = current.value.config;
    s.rec = { ...s.rec, config };
    if (config.ordering !== before.ordering) s.table.setOrdering(config.ordering === "key");
    if (JSON.stringify(config.filter) !== JSON.stringify(before.filter)) {
      s.matches = compileFilter(config.filter);
      this.#refilterHeld();
    }
    s.waker.notify();
  }

  /** Held messages were pulled under the old filter; the new one decides for them. */
  #refilterHeld(): void {
    const s = this.#s;
    if (s.config.filter === null) return;
    const passed = [...s.table.entries.values()].filter(
      (e) => e.state === "held" && e.dc === 1 && !s.matches(JSON.parse(e.record.body)),
    );
    for (const e of passed) s.table.remove(e);
    if (passed.length > 0)
      s.track(s.deps.acks.confirm(passed.map((e) => ({ subject: e.reply, kind: "ack" }))));
  }

  async stop(): Promise<void> {
    const s = this.#s;
    s.stopped = true;
    clearInterval(this.#timer);
    s.waker.notify();
    await s.settleBackground();
    await s.flushCounters();
  }

  /** Keeps held messages and long leases alive at JetStream; flushes counters. */
  #tick(): void {
    const s = this.#s;
    const now = Date.now();
    const ackWaitMs = s.config.ackTimeoutMs;
    for (const e of s.table.entries.values()) {
      // While this node lives, only its naks make JetStream redeliver: were JetStream's ack
      // wait to run out too, a lease expiry would redeliver twice and burn an attempt.
      const wanted = e.state === "held" || (e.state === "leased" && !e.naked && !e.busy);
      if (!wanted || e.serverUntil - now > ackWaitMs / 2) continue;
      s.deps.acks.send({ subject: e.reply, kind: "progress" });
      e.serverUntil = now + ackWaitMs;
    }
    this.#redeliverOverdue(now);
    if (s.countersDirty && now - s.lastFlush >= COUNTER_FLUSH_MS) void s.flushCounters();
    // Nacked or expired redriven events come back through the redrive consumer.
    if (now - this.#redriveCheckedAt >= REDRIVE_CHECK_MS) {
      this.#redriveCheckedAt = now;
      this.#redriveDue = true;
    }
  }

  /**
   * A nak'd entry JetStream has not redelivered by `redeliverBy` goes out again from here, as
   * the next attempt. JetStream may never redeliver it: nats-server 2.9 consumers can lose a
   * delivery in a leader change (a new leader that never learnt of it, or that moved past it
   * on a later ack), and a second owner across a healed partition can receive and ack the
   * redelivery meant for this one. Waiting on would hold the entry's key, and every later
   * event of that key, for good. The redelivery is at least once: an ack is applied to the
   * latest ack subject, which acks the message if JetStream still has it pending.
   */
  #redeliverOverdue(now: number): void {
    const s = this.#s;
    let any = false;
    for (const e of s.table.entries.values()) {
      const waiting = e.naked || e.state === "waiting";
      if (!waiting || e.busy || e.redeliverBy > now) continue;
      // Due at once: the next tick tells JetStream, should it still hold the message, that
      // the work is in progress.
      s.table.redelivered(e, e.dc + 1, e.reply, now);
      any = true;
    }
    if (any) s.waker.notify();
  }
}

function newEntry(
  source: Source,
  info: AckInfo,
  record: Entry["record"],
  reply: string,
  serverUntil: number,
): Entry {
  return {
    id: entryId(source, info.streamSeq),
    source,
    seq: info.streamSeq,
    record,
    dc: info.deliveries,
    reply,
    state: "held",
    leaseUntil: 0,
    serverUntil,
    naked: false,
    redeliverBy: 0,
    busy: false,
  };
}
