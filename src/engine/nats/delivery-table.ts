/**
 * The owner node's view of one subscription's outstanding deliveries: every message pulled
 * from its consumers and not yet settled. JetStream keeps what must survive a crash (which
 * messages are unacked, their delivery counts, nack delays); this table adds what JetStream
 * cannot express: which ackId is current, per-request lease ends, and per-key ordering.
 *
 * An entry is `held` (pulled, not handed out: new, redelivered, or blocked behind its key),
 * `leased` (handed out; still `leased` after its lease ran out until it is handed out again)
 * or `waiting` (nacked: JetStream redelivers it after the delay).
 */
import type { LogRecord } from "../../core/stored-event.js";

export type Source = "topic" | "redrive";
export type EntryState = "held" | "leased" | "waiting";

export interface Entry {
  readonly id: string;
  readonly source: Source;
  /** Sequence in the source stream (the topic's, or the redrive stream's). */
  readonly seq: number;
  readonly record: LogRecord;
  /** JetStream's delivery count of the latest delivery: the ackId's lease number. */
  dc: number;
  /** The latest delivery's ack subject. */
  reply: string;
  state: EntryState;
  /** When the lease ends (leased entries). */
  leaseUntil: number;
  /** When JetStream would redeliver on its own unless told the work is in progress. */
  serverUntil: number;
  /** A nak for an expired lease was sent; the redelivery is on its way. */
  naked: boolean;
  /**
   * When JetStream should have redelivered a nak'd entry (`naked` or `waiting`) by. Past it
   * the owner redelivers the entry itself: JetStream may never do so (see `#redeliverOverdue`
   * in subscription-owner.ts).
   */
  redeliverBy: number;
  /** A settle or dead-lettering of this entry is under way. */
  busy: boolean;
}

/** Beyond JetStream's ack wait (and a nack's delay), how long a nak'd entry may take to come back. */
export const REDELIVERY_GRACE_MS = 2_000;

/** How many settled entries a table remembers (see `wasSettled`). */
const SETTLED_MEMORY = 100_000;

export function entryId(source: Source, seq: number): string {
  return source === "topic" ? `t${seq}` : `r${seq}`;
}

export class DeliveryTable {
  readonly entries = new Map<string, Entry>();
  /** Key → id of the entry that holds it (key ordering only). */
  readonly #holders = new Map<string, string>();
  /** Held entries, redeliveries first, each set in arrival order. */
  readonly #redelivered = new Set<string>();
  readonly #fresh = new Set<string>();
  /**
   * Keys a dead predecessor may still have in flight (see `takeover-zone.ts`): per key, its
   * unsettled sequences in order. The first one holds the key until it is redelivered here,
   * settled, or `#ghostsUntil` passes (by then JetStream has redelivered every lease the
   * predecessor handed out).
   */
  readonly #ghosts = new Map<string, string[]>();
  #ghostsUntil = 0;
  #byKey: boolean;
  /** Ids of the entries settled for good here, oldest first, up to SETTLED_MEMORY. */
  readonly #settled = new Set<string>();

  constructor(byKey: boolean) {
    this.#byKey = byKey;
  }

  /** Holds each key for the predecessor's deliveries of it (`ids` in delivery order) until `until`. */
  blockKeys(byKey: ReadonlyMap<string, readonly string[]>, until: number): void {
    if (!this.#byKey) return;
    this.#ghostsUntil = until;
    for (const [key, ids] of byKey) {
      const [first, ...rest] = ids;
      if (first === undefined || this.#holders.has(key)) continue;
      this.#holders.set(key, first);
      if (rest.length > 0) this.#ghosts.set(key, rest);
    }
  }

  /** A predecessor's delivery was settled through this node: its key moves on. */
  releaseGhost(key: string | null, id: string): void {
    if (key === null || this.#holders.get(key) !== id || this.entries.has(id)) return;
    this.#passKey(key);
  }

  get heldCount(): number {
    return this.#redelivered.size + this.#fresh.size;
  }

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  /** A new message, held until it can be handed out. */
  addHeld(entry: Entry): void {
    this.entries.set(entry.id, entry);
    this.#fresh.add(entry.id);
  }

  /** A redelivery of a known entry: the newer delivery supersedes the old ackId. */
  redelivered(entry: Entry, dc: number, reply: string, serverUntil: number): void {
    entry.dc = dc;
    entry.reply = reply;
    entry.state = "held";
    entry.naked = false;
    entry.serverUntil = serverUntil;
    this.#fresh.delete(entry.id);
    this.#redelivered.add(entry.id);
  }

  /** Up to `n` held entries whose key is free (or theirs), now leased until `leaseUntil`. */
  take(n: number, leaseUntil: number, fits: (e: Entry) => boolean = () => true): Entry[] {
    const taken: Entry[] = [];
    for (const set of [this.#redelivered, this.#fresh]) {
      for (const id of set) {
        if (taken.length >= n) return taken;
        const entry = this.entries.get(id);
        if (entry === undefined) {
          set.delete(id);
          continue;
        }
        if (!this.#mayHold(entry) || !fits(entry)) continue;
        this.#hold(entry);
        set.delete(id);
        entry.state = "leased";
        entry.leaseUntil = leaseUntil;
        taken.push(entry);
      }
    }
    return taken;
  }

  /** Puts leased entries back as held, as if never handed out (a lease nobody received). */
  untake(entry: Entry): void {
    entry.state = "held";
    this.#redelivered.add(entry.id);
  }

  /** Settled for good (acked, dead-lettered): forget it and free its key. */
  remove(entry: Entry): void {
    this.#settled.add(entry.id);
    if (this.#settled.size > SETTLED_MEMORY) {
      const oldest = this.#settled.values().next().value;
      if (oldest !== undefined) this.#settled.delete(oldest);
    }
    this.entries.delete(entry.id);
    this.#redelivered.delete(entry.id);
    this.#fresh.delete(entry.id);
    const key = entry.record.key;
    if (key !== null && this.#holders.get(key) === entry.id) this.#passKey(key);
  }

  /**
   * Whether this table settled the entry (acked or dead-lettered; among the last
   * SETTLED_MEMORY). JetStream 2.9 confirms an ack on a consumer leader that may lose it in a
   * leader change before the other replicas have it: the message then comes back.
   */
  wasSettled(id: string): boolean {
    return this.#settled.has(id);
  }

  /** The key's holder is done: the predecessor's next delivery of it, if any, holds it. */
  #passKey(key: string): void {
    const queue = this.#ghosts.get(key);
    const next = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.#ghosts.delete(key);
    if (next === undefined) this.#holders.delete(key);
    else this.#holders.set(key, next);
  }

  leased(): Entry[] {
    return [...this.entries.values()].filter((e) => e.state === "leased");
  }

  /** Switching key ordering on or off: rebuild the key holders from what is outstanding. */
  setOrdering(byKey: boolean): void {
    this.#byKey = byKey;
    this.#holders.clear();
    this.#ghosts.clear();
    if (!byKey) return;
    for (const entry of this.entries.values())
      if (entry.state !== "held" && entry.record.key !== null)
        this.#holders.set(entry.record.key, entry.id);
  }

  #mayHold(entry: Entry): boolean {
    const key = entry.record.key;
    if (!this.#byKey || key === null) return true;
    const holder = this.#holders.get(key);
    if (holder === undefined || holder === entry.id) return true;
    if (this.entries.has(holder) || Date.now() < this.#ghostsUntil) return false;
    // The predecessor's leases have all run out: whatever it held is back or settled.
    this.#holders.delete(key);
    this.#ghosts.delete(key);
    return true;
  }

  #hold(entry: Entry): void {
    const key = entry.record.key;
    if (this.#byKey && key !== null) this.#holders.set(key, entry.id);
  }
}
