import { describe, expect, it } from "vitest";
import { Db } from "./database.js";
import type { DedupeIndex } from "./dedupe-index.js";
import { JobTx, PendingDedupe } from "./job-tx.js";
import {
  addPending,
  decodeHeld,
  encodeHeld,
  LeaseMemory,
  PendingLeases,
} from "./pending-leases.js";

const lease = (dueAt: number, key: string | null = null) => ({
  leaseNo: 1,
  dueAt,
  key,
  appendedAt: 0,
});

/** A job over an empty in-memory store: these helpers touch only the entries. */
function jobOn(leases: LeaseMemory): JobTx {
  return new JobTx(
    new Db({ path: ":memory:", fsync: "always" }),
    1_000,
    new PendingDedupe(),
    new Map<number, DedupeIndex>(),
    new Map(),
    leases,
  );
}

describe("pending leases", () => {
  it("stay in offset order when an undo puts an older one back", () => {
    const pending = new PendingLeases();
    for (const offset of [4, 5, 6]) pending.add(offset, lease(2_000));
    pending.remove(4);
    pending.add(4, lease(2_000));
    expect(pending.offsets()).toEqual([4, 5, 6]);
    expect(pending.lowest()).toBe(4);
  });

  it("tell expired from in-flight leases, and the earliest expiry", () => {
    const pending = new PendingLeases();
    pending.add(1, lease(3_000));
    pending.add(2, lease(1_000, "k"));
    pending.add(3, lease(2_000));
    expect(pending.hasKey("k")).toBe(true);
    expect(pending.nextDueAt()).toBe(1_000);
    expect(pending.expired(999)).toEqual([]);
    expect(pending.expired(2_000)).toEqual([2, 3]);
    expect(pending.inFlight(2_000)).toBe(1);
    pending.remove(2);
    expect(pending.hasKey("k")).toBe(false);
  });

  it("save the held offsets as runs above the floor and read them back", () => {
    const leases = new LeaseMemory();
    const tx = jobOn(leases);
    expect(encodeHeld(tx, 9)).toBeNull();
    const held = [100, 101, 102, 105, 107, 108, 70_000];
    for (const offset of held) addPending(tx, 9, offset, lease(5_000));
    const saved = encodeHeld(tx, 9);
    expect(saved?.byteLength).toBe(4 * 8); // four runs
    expect(decodeHeld(saved ?? new Uint8Array(), 100)).toEqual(held);
    tx.undo({ keepTopics: false });
    expect(leases.peek(9)).toBeUndefined();
  });
});
