/**
 * First leases kept in memory instead of as `deliveries` rows. The happy path of an event
 * (first lease, then ack) used to write a row and delete it again: two B-tree writes per event.
 * Now a first lease is an entry here (offset → lease number, expiry, key, append time) and an
 * ack of that lease just removes it. Anything else that concerns such a lease (nack, extend,
 * reject, release, expiry, dead-lettering, redrive, retention, a config change, close)
 * first *materializes* it as the 'leased' row the lease used to insert, and the row logic runs
 * unchanged (delivery-rows.ts).
 *
 * Durability, JetStream-like: saved with the cursor, in the statement every lease and settle
 * job writes anyway, are `subscriptions.ack_floor`, the lowest pending offset (the position
 * when nothing is pending; every first lease below it is acked or has a row), and `held`, the
 * pending offsets above it as runs (encodeHeld). No statement per event: a job's cost is one
 * pass over the subscription's entries, which `maxInFlight` bounds. After a crash exactly the
 * held offsets are taken as leased (lease-recovery.ts), so nothing acked is delivered again.
 * The spread position − floor is bounded by MAX_SPREAD (the oldest entries are materialized),
 * which keeps a stuck lease from being carried in memory forever. A clean close materializes
 * every entry, so a restart after it is exact to the lease number.
 *
 * Entries change only inside group-commit jobs, with an undo registered on the job (job-tx.ts):
 * a job rolled back, alone or with its whole commit, leaves no trace here. Readers outside jobs
 * (stats, the unsynced-lease check) therefore see the committed state, like the rows.
 */
import { insertDelivery } from "./delivery-rows.js";
import type { JobTx } from "./job-tx.js";

/** Most offsets between the ack floor and the position before the oldest entries become rows. */
export const MAX_SPREAD = 10_000;

export interface PendingLease {
  readonly leaseNo: number;
  readonly dueAt: number;
  /** Only under key ordering, as in the rows. */
  readonly key: string | null;
  readonly appendedAt: number;
}

/** One subscription's pending first leases, in offset order. */
export class PendingLeases {
  #entries = new Map<number, PendingLease>();
  readonly #keys = new Map<string, number>();
  #last = -1;
  /** A lower bound of the entries' expiries (exact after a scan), so most checks scan nothing. */
  #minDueAt = Number.POSITIVE_INFINITY;

  get size(): number {
    return this.#entries.size;
  }

  get(offset: number): PendingLease | undefined {
    return this.#entries.get(offset);
  }

  hasKey(key: string): boolean {
    return this.#keys.has(key);
  }

  /** The lowest pending offset, if any. */
  lowest(): number | undefined {
    for (const offset of this.#entries.keys()) return offset;
    return undefined;
  }

  offsets(): number[] {
    return [...this.#entries.keys()];
  }

  /** The offsets, in order, without a copy. */
  keys(): IterableIterator<number> {
    return this.#entries.keys();
  }

  add(offset: number, lease: PendingLease): void {
    if (offset < this.#last) {
      // Only an undo puts back an older offset: keep the map in offset order.
      const entries: [number, PendingLease][] = [...this.#entries, [offset, lease]];
      this.#entries = new Map(entries.sort((a, b) => a[0] - b[0]));
    } else {
      this.#entries.set(offset, lease);
      this.#last = offset;
    }
    if (lease.key !== null) this.#keys.set(lease.key, offset);
    this.#minDueAt = Math.min(this.#minDueAt, lease.dueAt);
  }

  remove(offset: number): PendingLease | undefined {
    const lease = this.#entries.get(offset);
    if (lease === undefined) return undefined;
    this.#entries.delete(offset);
    if (lease.key !== null && this.#keys.get(lease.key) === offset) this.#keys.delete(lease.key);
    if (this.#entries.size === 0) this.#minDueAt = Number.POSITIVE_INFINITY;
    return lease;
  }

  /** Offsets whose lease ran out at `now`. */
  expired(now: number): number[] {
    if (this.#minDueAt > now) return [];
    const out: number[] = [];
    let min = Number.POSITIVE_INFINITY;
    for (const [offset, lease] of this.#entries) {
      if (lease.dueAt <= now) out.push(offset);
      else min = Math.min(min, lease.dueAt);
    }
    this.#minDueAt = out.length > 0 ? Math.min(min, now) : min;
    return out;
  }

  hasExpired(now: number): boolean {
    return this.#minDueAt <= now && this.expired(now).length > 0;
  }

  /** The earliest expiry, or null when nothing is pending. */
  nextDueAt(): number | null {
    let min = Number.POSITIVE_INFINITY;
    for (const lease of this.#entries.values()) min = Math.min(min, lease.dueAt);
    this.#minDueAt = min;
    return Number.isFinite(min) ? min : null;
  }

  /** Entries whose lease has not run out at `now`. */
  inFlight(now: number): number {
    if (this.#minDueAt > now) return this.#entries.size;
    let count = 0;
    for (const lease of this.#entries.values()) if (lease.dueAt > now) count++;
    return count;
  }
}

/** Every subscription's pending first leases, by subscription id; one per engine. */
export class LeaseMemory {
  readonly #subs = new Map<number, PendingLeases>();

  /** The subscription's entries, or undefined when it has none. */
  peek(subId: number): PendingLeases | undefined {
    const pending = this.#subs.get(subId);
    return pending === undefined || pending.size === 0 ? undefined : pending;
  }

  of(subId: number): PendingLeases {
    let pending = this.#subs.get(subId);
    if (pending === undefined) {
      pending = new PendingLeases();
      this.#subs.set(subId, pending);
    }
    return pending;
  }

  subscriptions(): number[] {
    return [...this.#subs].filter(([, p]) => p.size > 0).map(([id]) => id);
  }

  drop(subId: number): void {
    this.#subs.delete(subId);
  }
}

/** The durable ack floor for a subscription at `position` (see the module comment). */
export function ackFloor(tx: JobTx, subId: number, position: number): number {
  return tx.leases.peek(subId)?.lowest() ?? position;
}

/**
 * The held offsets as runs relative to the floor (the lowest of them): [start, length] pairs
 * of 32-bit integers, or null when nothing is held. Leases are taken and acked in batches, so
 * a few runs usually cover hundreds of entries.
 */
export function encodeHeld(tx: JobTx, subId: number): Uint8Array | null {
  const pending = tx.leases.peek(subId);
  const floor = pending?.lowest();
  if (pending === undefined || floor === undefined) return null;
  const runs: number[] = [];
  let start = -1;
  let next = -1;
  for (const offset of pending.keys()) {
    if (offset !== next) {
      if (start >= 0) runs.push(start - floor, next - start);
      start = offset;
    }
    next = offset + 1;
  }
  runs.push(start - floor, next - start);
  const bytes = new Uint8Array(runs.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < runs.length; i++) view.setUint32(i * 4, runs[i] ?? 0, true);
  return bytes;
}

/** The offsets `encodeHeld` saved for `floor`. */
export function decodeHeld(held: Uint8Array, floor: number): number[] {
  const view = new DataView(held.buffer, held.byteOffset, held.byteLength);
  const offsets: number[] = [];
  for (let at = 0; at + 8 <= held.byteLength; at += 8) {
    const start = floor + view.getUint32(at, true);
    const length = view.getUint32(at + 4, true);
    for (let n = 0; n < length; n++) offsets.push(start + n);
  }
  return offsets;
}

export function addPending(tx: JobTx, subId: number, offset: number, lease: PendingLease): void {
  tx.leases.of(subId).add(offset, lease);
  // Looked up again when undone: a later job of the commit may have replaced the subscription's
  // entries (dropPending), and its undo has put them back by then.
  tx.onUndo(() => tx.leases.of(subId).remove(offset));
}

/** Removes an entry (acked, or its event is gone); returns it. */
export function takePending(tx: JobTx, subId: number, offset: number): PendingLease | undefined {
  const pending = tx.leases.peek(subId);
  const lease = pending?.remove(offset);
  if (lease !== undefined) tx.onUndo(() => tx.leases.of(subId).add(offset, lease));
  return lease;
}

/** Forgets every entry of the subscription, without rows (seek, delete). */
export function dropPending(tx: JobTx, subId: number): void {
  const pending = tx.leases.peek(subId);
  if (pending === undefined) return;
  tx.leases.drop(subId);
  tx.onUndo(() => {
    const current = tx.leases.of(subId);
    for (const offset of pending.offsets()) {
      const lease = pending.get(offset);
      if (lease !== undefined) current.add(offset, lease);
    }
  });
}

/** Turns an entry into the 'leased' row its lease would have inserted; false if none. */
export function materialize(tx: JobTx, subId: number, offset: number): boolean {
  const lease = takePending(tx, subId, offset);
  if (lease === undefined) return false;
  const { key, leaseNo, dueAt, appendedAt } = lease;
  insertDelivery(tx.db, subId, offset, key, "leased", 1, leaseNo, dueAt, appendedAt);
  return true;
}

/** Materializes the entries whose lease ran out, so they are due rows like any other. */
export function materializeExpired(tx: JobTx, subId: number): void {
  const pending = tx.leases.peek(subId);
  if (pending === undefined) return;
  for (const offset of pending.expired(tx.now)) materialize(tx, subId, offset);
}

/** Materializes entries with an offset below `offset` (all of them by default). */
export function materializeBelow(
  tx: JobTx,
  subId: number,
  offset = Number.POSITIVE_INFINITY,
): void {
  const pending = tx.leases.peek(subId);
  if (pending === undefined) return;
  for (const at of pending.offsets()) {
    if (at >= offset) break;
    materialize(tx, subId, at);
  }
}

/** Keeps position − floor within MAX_SPREAD by materializing the oldest entries. */
export function boundSpread(tx: JobTx, subId: number, position: number): void {
  materializeBelow(tx, subId, position - MAX_SPREAD);
}
