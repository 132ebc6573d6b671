/**
 * The state one subscription's owner keeps, and the moves every part of it shares: counting,
 * confirmed acks, dead-lettering. Leasing lives in `subscription-owner.ts`, settling in
 * `owner-settle.ts`, stats in `owner-stats.ts`.
 */
import type { SubscriptionConfig } from "../../core/config.js";
import { compileFilter, type EventPredicate } from "../../core/filter.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { NatsContext } from "./context.js";
import { appendDeadLetters } from "./dead-letter.js";
import { DeliveryTable, type Entry } from "./delivery-table.js";
import { unavailable } from "./errors.js";
import type { AckRequest, Acks } from "./js-acks.js";
import type { Counters, SubscriptionRecord } from "./metadata.js";
import type { Puller } from "./puller.js";
import { TakeoverZone, type ZoneDeps } from "./takeover-zone.js";
import { Waker } from "./waker.js";

export interface OwnerDeps {
  readonly ctx: NatsContext;
  readonly puller: Puller;
  readonly acks: Acks;
  readonly createTopic: (name: string) => Promise<void>;
}

export type Counter = "delivered" | "acked" | "deadLettered";

export class OwnerState {
  readonly name: string;
  readonly deps: OwnerDeps;
  rec: SubscriptionRecord;
  table: DeliveryTable;
  matches: EventPredicate;
  zone: TakeoverZone = TakeoverZone.empty();
  readonly counters: { delivered: number; acked: number; deadLettered: number };
  countersDirty = false;
  lastFlush = 0;
  readonly waker = new Waker();
  readonly #background = new Set<Promise<unknown>>();
  stopped = false;

  constructor(deps: OwnerDeps, rec: SubscriptionRecord, counters: Counters) {
    this.name = rec.config.name;
    this.deps = deps;
    this.rec = rec;
    this.table = new DeliveryTable(rec.config.ordering === "key");
    this.matches = compileFilter(rec.config.filter);
    this.counters = { ...counters };
  }

  get config(): SubscriptionConfig {
    return this.rec.config;
  }

  count(counter: Counter, n: number): void {
    if (n === 0) return;
    this.counters[counter] += n;
    this.countersDirty = true;
  }

  /** Work started from a message callback; `settleBackground` waits for all of it. */
  track(work: Promise<unknown>): void {
    const p = work.catch(() => undefined);
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }

  async settleBackground(): Promise<void> {
    while (this.#background.size > 0) await Promise.all([...this.#background]);
  }

  inFlight(now: number): number {
    let n = 0;
    for (const e of this.table.entries.values())
      if (e.state === "leased" && e.leaseUntil > now) n++;
    return n;
  }

  /** How often the owner keeps held messages and long leases alive at JetStream. */
  tickMs(): number {
    return Math.min(1_000, Math.max(50, Math.floor(this.config.ackTimeoutMs / 3)));
  }

  /** Sends acks, naks, progress or terms and throws unless JetStream confirmed every one. */
  async confirm(requests: readonly AckRequest[]): Promise<void> {
    if (requests.length === 0) return;
    const confirmed = await this.deps.acks.confirm(requests);
    if (confirmed.some((ok) => !ok)) throw unavailable("settling (no confirmation from JetStream)");
  }

  /** Appends copies to the dead-letter topic, then terminates the originals (see dead-letter.ts). */
  async deadLetter(
    entries: Entry[],
    reason: string,
    attempts: (e: Entry) => number,
    strict = false,
  ): Promise<void> {
    if (entries.length === 0) return;
    for (const e of entries) e.busy = true;
    try {
      const stored = await this.#appendCopies(
        entries.map((e) => ({ record: e.record, reason, attempts: attempts(e), id: e.id })),
      );
      const done = entries.filter((_, i) => stored[i] === true);
      const terms = await this.deps.acks.confirm(
        done.map((e) => ({ subject: e.reply, kind: "term" })),
      );
      const terminated = done.filter((_, i) => terms[i] === true);
      for (const e of terminated) this.table.remove(e);
      this.count("deadLettered", terminated.length);
      if (strict && terminated.length < entries.length)
        throw unavailable(`dead-lettering into ${this.config.deadLetterTopic}`);
    } finally {
      for (const e of entries) e.busy = false;
      this.waker.notify();
    }
  }

  #appendCopies(
    copies: readonly { record: LogRecord; reason: string; attempts: number; id: string }[],
  ): Promise<boolean[]> {
    const { ctx, createTopic } = this.deps;
    return appendDeadLetters(
      ctx,
      this.config.deadLetterTopic,
      this.name,
      copies.map((c) => ({ ...c, msgId: `dl:${this.name}:${this.rec.epoch}:${c.id}` })),
      createTopic,
    );
  }

  /** What the takeover zone needs to settle a predecessor's delivery. */
  zoneDeps(): ZoneDeps {
    return {
      ctx: this.deps.ctx,
      acks: this.deps.acks,
      rec: this.rec,
      deadLetter: async (record, reply, reason, attempts, id) => {
        const [stored] = await this.#appendCopies([{ record, reason, attempts, id }]);
        if (stored !== true)
          throw unavailable(`dead-lettering into ${this.config.deadLetterTopic}`);
        await this.confirm([{ subject: reply, kind: "term" }]);
        this.count("deadLettered", 1);
      },
      counted: (counter) => this.count(counter, 1),
    };
  }

  async flushCounters(): Promise<void> {
    if (!this.countersDirty) return;
    this.countersDirty = false;
    this.lastFlush = Date.now();
    await this.deps.ctx.metadata.counters.put(this.name, { ...this.counters }).catch(() => {
      this.countersDirty = true;
    });
  }
}
