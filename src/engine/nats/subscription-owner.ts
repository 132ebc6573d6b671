/**
 * The one node that serves a subscription's deliveries right now. It pulls from the
 * subscription's consumers into its delivery table and hands out, settles, seeks and counts;
 * every other node forwards those calls here (see `ownership.ts`). JetStream holds all that
 * must survive this node: which messages are unacked, delivery counts, nack delays.
 */
import { type AckIdParts, decodeAckId, encodeAckId } from "../../core/ack-id.js";
import { compileFilter, type EventPredicate } from "../../core/filter.js";
import type { StartPosition } from "../../core/positions.js";
import type {
  Delivery,
  RedriveRequest,
  RedriveResult,
  Settled,
  SubscriptionStats,
} from "../engine.js";
import { backoffDelayMs } from "./backoff.js";
import { consumerState, createConsumers, deleteConsumers, startOffset } from "./consumers.js";
import type { NatsContext } from "./context.js";
import { appendDeadLetters, MAX_ATTEMPTS_REASON } from "./dead-letter.js";
import { DeliveryTable, type Entry, entryId, type Source } from "./delivery-table.js";
import { subscriptionNotFound, unavailable } from "./errors.js";
import type { AckRequest, Acks } from "./js-acks.js";
import type { Counters, SubscriptionRecord } from "./metadata.js";
import type { Puller } from "./puller.js";
import { type AckInfo, ackSubject, parseAckSubject, recordFromPulled } from "./records.js";
import { redrive } from "./redrive.js";
import { TakeoverZone } from "./takeover-zone.js";
import { Waker } from "./waker.js";

export type SettleOp =
  | { readonly kind: "ack" }
  | { readonly kind: "nack"; readonly delayMs: number | null }
  | { readonly kind: "extend"; readonly leaseMs?: number }
  | { readonly kind: "reject"; readonly reason: string };

export interface LeaseCall {
  readonly max: number;
  readonly waitMs: number;
  readonly leaseMs?: number;
  readonly signal?: AbortSignal;
  /** Stop adding deliveries once their bodies reach this many bytes (replies to other nodes). */
  readonly budgetBytes?: number;
}

export interface OwnerDeps {
  readonly ctx: NatsContext;
  readonly puller: Puller;
  readonly acks: Acks;
  readonly createTopic: (name: string) => Promise<void>;
}

/** Held messages beyond which the owner stops pulling (a hot key blocks its partition-mates). */
const HELD_CAP = 10_000;
/** A waiting lease re-checks at least this often (redrive redeliveries, lease expiries). */
const WAIT_SLICE_MS = 1_000;
const COUNTER_FLUSH_MS = 1_000;
const LONG_POLL_MARGIN_MS = 1_000;
const LONG_POLL_MAX_MS = 30_000;

export class SubscriptionOwner {
  readonly name: string;
  readonly #deps: OwnerDeps;
  #rec: SubscriptionRecord;
  #table: DeliveryTable;
  #matches: EventPredicate;
  #zone: TakeoverZone;
  #counters: { delivered: number; acked: number; deadLettered: number };
  #countersDirty = false;
  #lastFlush = 0;
  readonly #waker = new Waker();
  readonly #background = new Set<Promise<unknown>>();
  #longPoll: Promise<number> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(deps: OwnerDeps, rec: SubscriptionRecord, counters: Counters) {
    this.name = rec.config.name;
    this.#deps = deps;
    this.#rec = rec;
    this.#table = new DeliveryTable(rec.config.ordering === "key");
    this.#matches = compileFilter(rec.config.filter);
    this.#counters = { ...counters };
    this.#zone = TakeoverZone.empty();
  }

  /** Takes over a subscription: counters from KV, and what JetStream has outstanding. */
  static async start(deps: OwnerDeps, rec: SubscriptionRecord): Promise<SubscriptionOwner> {
    const counters = (await deps.ctx.metadata.counters.get(rec.config.name))?.value ?? {
      delivered: 0,
      acked: 0,
      deadLettered: 0,
    };
    const owner = new SubscriptionOwner(deps, rec, counters);
    owner.#zone = await TakeoverZone.read(deps.ctx, rec);
    owner.#timer = setInterval(() => owner.#tick(), owner.#tickMs());
    owner.#timer.unref();
    return owner;
  }

  get record(): SubscriptionRecord {
    return this.#rec;
  }

  // Leasing.

  async lease(call: LeaseCall): Promise<Delivery[]> {
    const deadline = Date.now() + Math.max(0, call.waitMs);
    const leaseMs = call.leaseMs ?? this.#rec.config.ackTimeoutMs;
    for (;;) {
      if (this.#stopped || call.signal?.aborted || this.#deps.ctx.closed) return [];
      await this.#expireLeases();
      const got = await this.#takeOrPull(call, leaseMs);
      await this.#settleBackground();
      if (got.length > 0) return this.#handOut(got, call.signal);
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.#wait(Math.min(left, this.#untilNextExpiry(), WAIT_SLICE_MS), left, call.signal);
    }
  }

  async #takeOrPull(call: LeaseCall, leaseMs: number): Promise<Entry[]> {
    const room = Math.min(call.max, this.#rec.config.maxInFlight - this.#inFlight(Date.now()));
    if (room <= 0) return [];
    let budget = call.budgetBytes ?? Number.POSITIVE_INFINITY;
    const fits = (e: Entry) => {
      if (budget <= 0) return false;
      budget -= e.record.body.length;
      return true;
    };
    const take = (n: number) => this.#table.take(n, Date.now() + leaseMs, fits);
    const got = take(room);
    if (got.length < room && !this.#stopped) {
      await this.#pull("redrive", room - got.length);
      got.push(...take(room - got.length));
    }
    while (got.length < room && this.#table.heldCount < HELD_CAP && !this.#stopped) {
      const want = room - got.length;
      const received = await this.#pull("topic", want);
      got.push(...take(room - got.length));
      if (received < want || budget <= 0) break;
    }
    return got;
  }

  #pull(source: Source, batch: number, expiresMs?: number): Promise<number> {
    const { ctx, puller } = this.#deps;
    const rec = this.#rec;
    const stream =
      source === "topic" ? ctx.names.topicStream(rec.config.topic) : ctx.names.redriveStream;
    const consumer =
      source === "topic"
        ? ctx.names.topicConsumer(this.name, rec.epoch)
        : ctx.names.redriveConsumer(this.name, rec.epoch);
    const options = expiresMs === undefined ? { batch } : { batch, expiresMs };
    return puller.pull(stream, consumer, options, (msg) => {
      const info = parseAckSubject(msg.reply ?? "");
      if (info !== null && info.consumer === consumer)
        this.#accept(
          source,
          info,
          recordFromPulled(rec.config.topic, source, msg, info),
          msg.reply ?? "",
        );
    });
  }

  /** A message JetStream delivered to this owner. */
  #accept(source: Source, info: AckInfo, record: Entry["record"], reply: string): void {
    const id = entryId(source, info.streamSeq);
    const ackWaitMs = this.#rec.config.ackTimeoutMs;
    const now = Date.now();
    const known = this.#table.get(id);
    if (known !== undefined && info.deliveries <= known.dc) return;
    if (info.deliveries > this.#rec.config.maxAttempts) {
      const entry = known ?? this.#newEntry(source, info, record, reply, now + ackWaitMs);
      entry.dc = info.deliveries;
      entry.reply = reply;
      this.#track(this.#deadLetter([entry], MAX_ATTEMPTS_REASON, (e) => e.dc - 1));
      return;
    }
    if (known !== undefined) {
      this.#table.redelivered(known, info.deliveries, reply, now + ackWaitMs);
    } else {
      if (this.#rec.config.filter !== null && !this.#matches(JSON.parse(record.body))) {
        this.#track(this.#deps.acks.confirm([{ subject: reply, kind: "ack" }]));
        return;
      }
      this.#table.addHeld(this.#newEntry(source, info, record, reply, now + ackWaitMs));
    }
    this.#waker.notify();
  }

  #newEntry(
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
      busy: false,
    };
  }

  async #handOut(entries: Entry[], signal?: AbortSignal): Promise<Delivery[]> {
    const now = Date.now();
    const ackWaitMs = this.#rec.config.ackTimeoutMs;
    // A lease longer than JetStream's ack wait (or a message held a while) needs the
    // server's clock reset now, or it would redeliver under the client's feet.
    const refresh = entries.filter((e) => e.leaseUntil > e.serverUntil);
    if (refresh.length > 0) {
      await this.#deps.acks.confirm(refresh.map((e) => ({ subject: e.reply, kind: "progress" })));
      for (const e of refresh) e.serverUntil = now + ackWaitMs;
    }
    if (signal?.aborted) {
      for (const e of entries) this.#table.untake(e);
      this.#waker.notify();
      return [];
    }
    this.#count("delivered", entries.length);
    return entries.map((e) => ({
      ackId: this.#ackIdOf(e),
      attempt: e.dc,
      record: e.record,
    }));
  }

  #ackIdOf(e: Entry): string {
    const parts: AckIdParts = { epoch: this.#rec.epoch, offset: e.record.offset, lease: e.dc };
    return encodeAckId(e.source === "redrive" ? { ...parts, ref: e.seq } : parts);
  }

  /** Lets a lease nobody received go back, as if never handed out (its ackIds are dropped). */
  release(ackIds: readonly string[]): void {
    for (const ackId of ackIds) {
      const found = this.#find(decodeAckId(ackId));
      if (found.entry !== undefined && found.status === "ok") this.#table.untake(found.entry);
    }
    this.#counters.delivered -= ackIds.length;
    this.#waker.notify();
  }

  /** Expired leases go back to JetStream (nak) or, out of attempts, to the dead letters. */
  async #expireLeases(): Promise<void> {
    const now = Date.now();
    const expired = this.#table.leased().filter((e) => e.leaseUntil <= now && !e.naked && !e.busy);
    if (expired.length === 0) return;
    const max = this.#rec.config.maxAttempts;
    const dead = expired.filter((e) => e.dc >= max);
    const retry = expired.filter((e) => e.dc < max);
    for (const e of retry) e.naked = true;
    await Promise.all([
      dead.length > 0 ? this.#deadLetter(dead, MAX_ATTEMPTS_REASON, (e) => e.dc) : undefined,
      retry.length > 0
        ? this.#deps.acks.confirm(retry.map((e) => ({ subject: e.reply, kind: "nak" })))
        : undefined,
    ]);
  }

  #untilNextExpiry(): number {
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#table.leased()) if (!e.naked) next = Math.min(next, e.leaseUntil - now);
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
    const abort = () => this.#waker.notify();
    signal?.addEventListener("abort", abort);
    try {
      if (this.#longPoll === null && this.#table.heldCount < HELD_CAP) {
        const poll = this.#pull("topic", 1, Math.min(LONG_POLL_MAX_MS, left + LONG_POLL_MARGIN_MS));
        this.#longPoll = poll;
        void poll.finally(() => {
          if (this.#longPoll === poll) this.#longPoll = null;
        });
      }
      await this.#waker.wait(ms);
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  // Settling.

  async settle(op: SettleOp, ackIds: readonly string[]): Promise<Settled[]> {
    const results: Settled[] = [];
    const chosen: Entry[] = [];
    const blind: { index: number; parts: AckIdParts }[] = [];
    for (const ackId of ackIds) {
      const parts = decodeAckId(ackId);
      const found = this.#find(parts);
      if (found.status === "ok" && found.entry !== undefined) {
        found.entry.busy = true;
        chosen.push(found.entry);
      } else if (found.status === "zone" && parts !== null) {
        blind.push({ index: results.length, parts });
      }
      results.push({ ackId, status: found.status === "zone" ? "ok" : found.status });
    }
    try {
      await this.#apply(op, chosen);
      for (const { index, parts } of blind) {
        const status = await this.#zone.settle(this.#zoneDeps(), op, parts);
        const prior = results[index];
        if (prior !== undefined) results[index] = { ackId: prior.ackId, status };
      }
    } finally {
      for (const e of chosen) e.busy = false;
      this.#waker.notify();
    }
    return results;
  }

  #find(parts: AckIdParts | null): {
    status: "ok" | "expired" | "unknown" | "zone";
    entry?: Entry;
  } {
    if (parts === null || parts.epoch > this.#rec.epoch) return { status: "unknown" };
    if (parts.epoch < this.#rec.epoch) return { status: "expired" };
    const id =
      parts.ref === undefined ? entryId("topic", parts.offset) : entryId("redrive", parts.ref);
    const entry = this.#table.get(id);
    if (entry === undefined || entry.record.offset !== parts.offset)
      return { status: this.#zone.covers(id, parts) ? "zone" : "unknown" };
    if (entry.dc > parts.lease) return { status: "expired" };
    if (entry.dc < parts.lease || entry.state !== "leased" || entry.busy)
      return { status: "unknown" };
    return { status: "ok", entry };
  }

  async #apply(op: SettleOp, entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    switch (op.kind) {
      case "ack":
        await this.#confirm(entries.map((e) => ({ subject: e.reply, kind: "ack" })));
        for (const e of entries) this.#table.remove(e);
        this.#count("acked", entries.length);
        return;
      case "nack":
        return this.#nack(entries, op.delayMs);
      case "extend":
        return this.#extend(entries, op.leaseMs ?? this.#rec.config.ackTimeoutMs);
      case "reject":
        return this.#deadLetter(entries, op.reason, (e) => e.dc, true);
    }
  }

  async #nack(entries: Entry[], delayMs: number | null): Promise<void> {
    const { maxAttempts, backoff } = this.#rec.config;
    const exhausted = entries.filter((e) => e.dc >= maxAttempts);
    const retry = entries.filter((e) => e.dc < maxAttempts);
    const requests: AckRequest[] = retry.map((e) => ({
      subject: e.reply,
      kind: "nak",
      delayMs: delayMs ?? backoffDelayMs(backoff, e.dc, Math.random),
    }));
    await Promise.all([
      this.#deadLetter(exhausted, MAX_ATTEMPTS_REASON, (e) => e.dc, true),
      this.#confirm(requests),
    ]);
    for (const e of retry) e.state = "waiting";
  }

  async #extend(entries: Entry[], leaseMs: number): Promise<void> {
    const now = Date.now();
    for (const e of entries) e.leaseUntil = now + leaseMs;
    const refresh = entries.filter((e) => e.leaseUntil > e.serverUntil - this.#tickMs());
    await this.#confirm(refresh.map((e) => ({ subject: e.reply, kind: "progress" })));
    for (const e of refresh) e.serverUntil = now + this.#rec.config.ackTimeoutMs;
  }

  async #confirm(requests: readonly AckRequest[]): Promise<void> {
    if (requests.length === 0) return;
    const confirmed = await this.#deps.acks.confirm(requests);
    if (confirmed.some((ok) => !ok)) throw unavailable("settling (no confirmation from JetStream)");
  }

  /** Appends copies to the dead-letter topic, then terminates the originals (see dead-letter.ts). */
  async #deadLetter(
    entries: Entry[],
    reason: string,
    attempts: (e: Entry) => number,
    strict = false,
  ): Promise<void> {
    if (entries.length === 0) return;
    const { ctx, createTopic } = this.#deps;
    const config = this.#rec.config;
    for (const e of entries) e.busy = true;
    try {
      const stored = await appendDeadLetters(
        ctx,
        config.deadLetterTopic,
        this.name,
        entries.map((e) => ({
          record: e.record,
          reason,
          attempts: attempts(e),
          msgId: `dl:${this.name}:${this.#rec.epoch}:${e.id}`,
        })),
        createTopic,
      );
      const done = entries.filter((_, i) => stored[i] === true);
      const terms = await this.#deps.acks.confirm(
        done.map((e) => ({ subject: e.reply, kind: "term" })),
      );
      const terminated = done.filter((_, i) => terms[i] === true);
      for (const e of terminated) this.#table.remove(e);
      this.#count("deadLettered", terminated.length);
      if (strict && terminated.length < entries.length)
        throw unavailable(`dead-lettering into ${config.deadLetterTopic}`);
    } finally {
      for (const e of entries) e.busy = false;
      this.#waker.notify();
    }
  }

  // Seek, redrive, stats, config.

  async seek(to: StartPosition): Promise<number> {
    const { ctx } = this.#deps;
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
      this.#rec = next;
      this.#table = new DeliveryTable(next.config.ordering === "key");
      this.#zone = TakeoverZone.empty();
      this.#waker.notify();
      return position;
    }
  }

  redrive(req: RedriveRequest): Promise<RedriveResult> {
    const config = this.#rec.config;
    const scope = {
      ctx: this.#deps.ctx,
      puller: this.#deps.puller,
      subscription: this.name,
      topic: config.topic,
      deadLetterTopic: config.deadLetterTopic,
    };
    return redrive(scope, req).finally(() => this.#waker.notify());
  }

  async stats(): Promise<SubscriptionStats> {
    const { ctx } = this.#deps;
    const rec = this.#rec;
    const [topic, redriven] = await Promise.all([
      consumerState(
        ctx,
        ctx.names.topicStream(rec.config.topic),
        ctx.names.topicConsumer(this.name, rec.epoch),
      ),
      consumerState(ctx, ctx.names.redriveStream, ctx.names.redriveConsumer(this.name, rec.epoch)),
    ]);
    const now = Date.now();
    let oldest = Number.POSITIVE_INFINITY;
    for (const e of this.#table.entries.values())
      if (e.state !== "held") oldest = Math.min(oldest, e.record.appendedAt);
    const pending = (s: typeof topic) => (s === null ? 0 : s.numPending + s.numAckPending);
    return {
      position: (topic?.deliveredSeq ?? rec.start - 1) + 1,
      lag: pending(topic) + pending(redriven),
      inFlight: this.#inFlight(now),
      ...this.#counters,
      oldestUnackedAgeMs: Number.isFinite(oldest) ? Math.max(0, now - oldest) : 0,
    };
  }

  /** Takes a changed config (another node's put): filter, ordering, limits. */
  async reload(): Promise<void> {
    const current = await this.#deps.ctx.metadata.subscriptions.get(this.name);
    if (current === null) return;
    const before = this.#rec.config;
    this.#rec = { ...this.#rec, config: current.value.config };
    const config = current.value.config;
    if (config.ordering !== before.ordering) this.#table.setOrdering(config.ordering === "key");
    if (JSON.stringify(config.filter) !== JSON.stringify(before.filter)) {
      this.#matches = compileFilter(config.filter);
      this.#refilterHeld();
    }
    this.#waker.notify();
  }

  /** Held messages were pulled under the old filter; the new one decides for them. */
  #refilterHeld(): void {
    if (this.#rec.config.filter === null) return;
    const passed = [...this.#table.entries.values()].filter(
      (e) => e.state === "held" && e.dc === 1 && !this.#matches(JSON.parse(e.record.body)),
    );
    for (const e of passed) this.#table.remove(e);
    if (passed.length > 0)
      this.#track(this.#deps.acks.confirm(passed.map((e) => ({ subject: e.reply, kind: "ack" }))));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#waker.notify();
    await this.#settleBackground();
    await this.flushCounters();
  }

  async flushCounters(): Promise<void> {
    if (!this.#countersDirty) return;
    this.#countersDirty = false;
    this.#lastFlush = Date.now();
    await this.#deps.ctx.metadata.counters.put(this.name, { ...this.#counters }).catch(() => {
      this.#countersDirty = true;
    });
  }

  // Internals.

  #inFlight(now: number): number {
    let n = 0;
    for (const e of this.#table.entries.values())
      if (e.state === "leased" && e.leaseUntil > now) n++;
    return n;
  }

  #count(counter: "delivered" | "acked" | "deadLettered", n: number): void {
    if (n === 0) return;
    this.#counters[counter] += n;
    this.#countersDirty = true;
  }

  #track(work: Promise<unknown>): void {
    const p = work.catch(() => undefined);
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }

  async #settleBackground(): Promise<void> {
    while (this.#background.size > 0) await Promise.all([...this.#background]);
  }

  #tickMs(): number {
    return Math.min(1_000, Math.max(50, Math.floor(this.#rec.config.ackTimeoutMs / 3)));
  }

  /** Keeps held messages and long leases alive at JetStream; flushes counters. */
  #tick(): void {
    const now = Date.now();
    const ackWaitMs = this.#rec.config.ackTimeoutMs;
    for (const e of this.#table.entries.values()) {
      const wanted = e.state === "held" || (e.state === "leased" && e.leaseUntil > e.serverUntil);
      if (!wanted || e.serverUntil - now > ackWaitMs / 2) continue;
      this.#deps.acks.send({ subject: e.reply, kind: "progress" });
      e.serverUntil = now + ackWaitMs;
    }
    if (this.#countersDirty && now - this.#lastFlush >= COUNTER_FLUSH_MS) void this.flushCounters();
  }

  #zoneDeps() {
    return {
      ctx: this.#deps.ctx,
      acks: this.#deps.acks,
      rec: this.#rec,
      deadLetter: (
        record: Entry["record"],
        reply: string,
        reason: string,
        attempts: number,
        id: string,
      ) => this.#zoneDeadLetter(record, reply, reason, attempts, id),
      counted: (counter: "acked" | "deadLettered") => this.#count(counter, 1),
    };
  }

  async #zoneDeadLetter(
    record: Entry["record"],
    reply: string,
    reason: string,
    attempts: number,
    id: string,
  ): Promise<void> {
    const { ctx, createTopic } = this.#deps;
    const config = this.#rec.config;
    const copy = { record, reason, attempts, msgId: `dl:${this.name}:${this.#rec.epoch}:${id}` };
    const [stored] = await appendDeadLetters(
      ctx,
      config.deadLetterTopic,
      this.name,
      [copy],
      createTopic,
    );
    if (stored !== true) throw unavailable(`dead-lettering into ${config.deadLetterTopic}`);
    await this.#confirm([{ subject: reply, kind: "term" }]);
    this.#count("deadLettered", 1);
  }
}

export { ackSubject };
