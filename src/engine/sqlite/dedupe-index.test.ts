import { describe, expect, it } from "vitest";
import { DedupeIndex, dedupeHash } from "./dedupe-index.js";
import { Fifo } from "./fifo.js";

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 0x1_0000_0000;
  };
}

describe("dedupe index", () => {
  it("answers lookups inside the window only, and forgets what the window left", () => {
    const index = new DedupeIndex();
    index.add(11, 1, 1_000);
    index.add(22, 2, 2_000);
    index.add(33, 3, 3_000);
    expect([index.lookup(11, 1_000), index.lookup(11, 1_001), index.lookup(22, 1_001)]).toEqual([
      1,
      undefined,
      2,
    ]);
    index.prune(2_500);
    expect([index.size, index.lookup(22, 0), index.lookup(33, 0)]).toEqual([1, undefined, 3]);
  });

  it("forgets the oldest ids early rather than outgrow its cap", () => {
    const index = new DedupeIndex(2);
    index.add(11, 1, 1_000);
    index.add(22, 2, 1_000);
    index.add(33, 3, 1_000);
    expect([index.size, index.lookup(11, 0), index.lookup(22, 0), index.lookup(33, 0)]).toEqual([
      2,
      undefined,
      2,
      3,
    ]);
  });

  it("shrinks the table a burst grew once the burst has left the window", () => {
    const index = new DedupeIndex();
    const empty = index.capacity;
    for (let offset = 0; offset < 100_000; offset++)
      index.add(dedupeHash("burst", String(offset)), offset, 1_000 + Math.floor(offset / 1_000));
    const grown = index.capacity;
    index.prune(1_099); // the last 1,000 ids stay
    expect(grown).toBeGreaterThan(100_000);
    expect(index.size).toBe(1_000);
    expect(index.capacity).toBeLessThanOrEqual(4_096);
    expect(index.lookup(dedupeHash("burst", "99999"), 0)).toBe(99_999);
    expect(index.lookup(dedupeHash("burst", "99000"), 0)).toBe(99_000);
    expect(index.lookup(dedupeHash("burst", "98999"), 0)).toBeUndefined();
    index.prune(2_000);
    expect([index.size, index.capacity]).toEqual([0, empty]);
  });

  it("agrees with a plain Map model through adds, re-adds, lookups and prunes", () => {
    const next = random(42);
    const index = new DedupeIndex();
    const model = new Map<number, { offset: number; at: number }>();
    let offset = 0;
    let at = 1_000;
    let cutoff = 0;
    for (let step = 0; step < 200_000; step++) {
      // Few distinct hashes, clustered: many share a home slot and probe runs get long.
      const hash = Math.floor(next() * 5_000) * 4_096;
      const roll = next();
      if (roll < 0.5) {
        offset += 1;
        if (next() < 0.1) at += 1;
        index.add(hash, offset, at);
        model.set(hash, { offset, at });
      } else if (roll < 0.999) {
        const entry = model.get(hash);
        const expected = entry !== undefined && entry.at >= cutoff ? entry.offset : undefined;
        expect(index.lookup(hash, cutoff)).toBe(expected);
      } else {
        cutoff = Math.max(cutoff, at - Math.floor(next() * 50));
        index.prune(cutoff);
        for (const [key, entry] of model) if (entry.at < cutoff) model.delete(key);
        expect(index.size).toBe(model.size);
      }
    }
  });

  it("tells sources and ids apart even when their concatenations are equal", () => {
    expect(dedupeHash("ab", "c")).not.toBe(dedupeHash("a", "bc"));
    expect(dedupeHash("/s", "1")).toBe(dedupeHash("/s", "1"));
    expect(Number.isSafeInteger(dedupeHash("/s", "x".repeat(500)))).toBe(true);
  });
});

describe("fifo", () => {
  it("returns pairs in order across chunk boundaries and after draining", () => {
    const fifo = new Fifo();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 150_000; i++) fifo.push(i, -i);
      for (let i = 0; i < 150_000; i++) {
        expect(fifo.peekSecond()).toBe(-i);
        expect(fifo.shift()).toEqual([i, -i]);
      }
      expect(fifo.length).toBe(0);
    }
  });
});
