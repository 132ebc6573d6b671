import { describe, expect, it } from "vitest";
import { type Found, firstReached } from "./sequence-search.js";

/** A subject's messages at scattered sequences of a stream, values growing along them. */
function ledger(count: number, seed: number): Found<number>[] {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const messages: Found<number>[] = [];
  let seq = 0;
  let value = 0;
  for (let i = 0; i < count; i++) {
    seq += 1 + Math.floor(random() * 20);
    value += Math.floor(random() * 3); // repeats, like a reservation and its commit
    messages.push({ seq, value });
  }
  return messages;
}

function searcher(messages: readonly Found<number>[], hi: number) {
  let probes = 0;
  const next = async (seq: number) => {
    probes++;
    return messages.find((m) => m.seq >= seq && m.seq <= hi) ?? null;
  };
  return { next, probes: () => probes };
}

describe("firstReached", () => {
  for (const fromTop of [false, true])
    it(`finds the first message reaching a value, as a linear scan does (${fromTop ? "from the top" : "bisecting"})`, async () => {
      for (const seed of [1, 7, 42]) {
        const messages = ledger(300, seed);
        const hi = messages.at(-1)?.seq ?? 0;
        const top = messages.at(-1)?.value ?? 0;
        for (let target = -1; target <= top + 1; target++) {
          const search = searcher(messages, hi);
          const found = await firstReached(1, hi, search.next, (v) => v >= target, fromTop);
          expect(found).toEqual(messages.find((m) => m.value >= target) ?? null);
          // log2 of ~3,000 sequences, twice over for the steps down from the top.
          expect(search.probes()).toBeLessThanOrEqual(fromTop ? 26 : 13);
        }
      }
    });

  it("costs a few probes for a message near the top, whatever the stream's length", async () => {
    const messages = ledger(100_000, 3);
    const hi = messages.at(-1)?.seq ?? 0;
    const last = messages.at(-1)?.value ?? 0;
    const search = searcher(messages, hi);
    const found = await firstReached(1, hi, search.next, (v) => v >= last, true);
    expect(found?.value).toBe(last);
    expect(search.probes()).toBeLessThanOrEqual(12);
  });

  it("answers null on an empty range and when nothing reaches", async () => {
    const messages = ledger(50, 5);
    const hi = messages.at(-1)?.seq ?? 0;
    expect(await firstReached(1, hi, searcher(messages, hi).next, () => false, true)).toBeNull();
    expect(await firstReached(1, 0, searcher([], 0).next, () => true, false)).toBeNull();
  });
});
