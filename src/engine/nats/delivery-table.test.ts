import { describe, expect, it } from "vitest";
import { DeliveryTable, type Entry, entryId } from "./delivery-table.js";

function entry(seq: number, key: string | null): Entry {
  return {
    id: entryId("topic", seq),
    source: "topic",
    seq,
    record: { topic: "t", offset: seq, appendedAt: 0, key, body: "{}" },
    dc: 1,
    reply: `$JS.ACK.S.C.1.${seq}.${seq}.0.0`,
    state: "held",
    leaseUntil: 0,
    serverUntil: 0,
    naked: false,
    redeliverBy: 0,
    busy: false,
  };
}

const seqs = (entries: readonly Entry[]) => entries.map((e) => e.seq);

describe("DeliveryTable", () => {
  it("hands out one entry per key at a time under key ordering, keys in parallel", () => {
    const table = new DeliveryTable(true);
    const [a1, b1, a2, n1] = [entry(1, "a"), entry(2, "b"), entry(3, "a"), entry(4, null)];
    for (const e of [a1, b1, a2, n1]) table.addHeld(e);
    expect(seqs(table.take(10, 1))).toEqual([1, 2, 4]);
    expect(table.take(10, 1)).toEqual([]);
    table.remove(a1);
    expect(seqs(table.take(10, 1))).toEqual([3]);
  });

  it("hands out everything without key ordering, redeliveries first", () => {
    const table = new DeliveryTable(false);
    const [a1, a2] = [entry(1, "a"), entry(2, "a")];
    table.addHeld(a1);
    table.addHeld(a2);
    expect(seqs(table.take(1, 1))).toEqual([1]);
    table.redelivered(a1, 2, a1.reply, 0);
    expect(seqs(table.take(10, 1))).toEqual([1, 2]);
    expect(a1.dc).toBe(2);
  });

  it("holds a dead predecessor's keys in its order until they come back or time runs out", () => {
    const table = new DeliveryTable(true);
    table.blockKeys(
      new Map([["a", [entryId("topic", 1), entryId("topic", 2)]]]),
      Date.now() + 60_000,
    );
    const a3 = entry(3, "a");
    table.addHeld(a3);
    expect(table.take(10, 1)).toEqual([]);
    const a1 = entry(1, "a");
    table.addHeld(a1);
    expect(seqs(table.take(10, 1))).toEqual([1]);
    table.remove(a1);
    // a2 is next in the predecessor's order: a3 still waits.
    expect(table.take(10, 1)).toEqual([]);
    table.releaseGhost("a", entryId("topic", 2));
    expect(seqs(table.take(10, 1))).toEqual([3]);
  });

  it("lets a predecessor's keys go once its leases must have run out", () => {
    const table = new DeliveryTable(true);
    table.blockKeys(new Map([["a", [entryId("topic", 1)]]]), Date.now() - 1);
    table.addHeld(entry(5, "a"));
    expect(seqs(table.take(10, 1))).toEqual([5]);
  });

  it("puts an untaken entry back first, as if never handed out", () => {
    const table = new DeliveryTable(true);
    const [a1, b1] = [entry(1, "a"), entry(2, "b")];
    table.addHeld(a1);
    table.addHeld(b1);
    const taken = table.take(1, 1);
    for (const e of taken) table.untake(e);
    expect(seqs(table.take(10, 1))).toEqual([1, 2]);
  });

  it("remembers what it settled, the last 100,000 entries", () => {
    const table = new DeliveryTable(false);
    const first = entry(1, null);
    table.addHeld(first);
    expect(table.wasSettled(first.id)).toBe(false);
    table.remove(first);
    expect(table.wasSettled(first.id)).toBe(true);
    for (let seq = 2; seq <= 100_001; seq++) table.remove(entry(seq, null));
    expect(table.wasSettled(first.id)).toBe(false);
    expect(table.wasSettled(entryId("topic", 2))).toBe(true);
    expect(table.wasSettled(entryId("redrive", 2))).toBe(false);
  });
});
