import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Batcher, type BatchSender } from "./batcher.js";

interface Item {
  readonly n: number;
  readonly bytes: number;
  readonly key: string | null;
}

interface Call {
  readonly lane: string;
  readonly items: readonly Item[];
  readonly answer: () => void;
  readonly fail: (error: Error) => void;
}

/** A sender that records each batch and answers only when the test says so. */
function recordingSender(): { calls: Call[]; send: BatchSender<Item, number> } {
  const calls: Call[] = [];
  const send: BatchSender<Item, number> = (lane, items) =>
    new Promise((resolve, reject) => {
      calls.push({
        lane,
        items,
        answer: () => resolve(items.map((i) => i.n * 10)),
        fail: reject,
      });
    });
  return { calls, send };
}

const item = (n: number, bytes = 10, key: string | null = null): Item => ({ n, bytes, key });
const keyed = (n: number, key: string): Item => item(n, 10, key);
const serial = { maxInFlight: 1 };
const sent = (calls: Call[]) => calls.map((c) => c.items.map((i) => i.n));

describe("Batcher", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("holds a lone item for the linger, then sends everything added meanwhile in one batch", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher({ lingerMs: 5, maxItems: 100, maxBytes: 10_000, ...serial }, send);
    const results = [1, 2, 3].map((n) => batcher.add("t", [item(n)])[0]);
    await vi.advanceTimersByTimeAsync(4);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.items.map((i) => i.n))).toEqual([[1, 2, 3]]);
    calls[0]?.answer();
    expect(await Promise.all(results)).toEqual([10, 20, 30]);
  });

  it("sends at once when a batch is full by count, without waiting for the linger", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher(
      { lingerMs: 1_000, maxItems: 3, maxBytes: 10_000, ...serial },
      send,
    );
    void Promise.allSettled(batcher.add("t", [item(1), item(2), item(3), item(4)]));
    expect(calls.map((c) => c.items.length)).toEqual([3]);
  });

  it("splits by bytes, and an item larger than maxBytes goes alone", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher({ lingerMs: 1, maxItems: 100, maxBytes: 100, ...serial }, send);
    void Promise.allSettled(batcher.add("t", [item(1, 60), item(2, 60), item(3, 500)]));
    expect(calls.map((c) => c.items.map((i) => i.n))).toEqual([[1]]);
    calls[0]?.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.items.map((i) => i.n))).toEqual([[1], [2]]);
    calls[1]?.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.items.map((i) => i.n))).toEqual([[1], [2], [3]]);
  });

  it("keeps one batch in flight per lane and sends what queued meanwhile as soon as it returns", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher({ lingerMs: 5, maxItems: 100, maxBytes: 10_000, ...serial }, send);
    void Promise.allSettled(batcher.add("t", [item(1)]));
    await vi.advanceTimersByTimeAsync(5);
    void Promise.allSettled(batcher.add("t", [item(2)]));
    void Promise.allSettled(batcher.add("t", [item(3)]));
    await vi.advanceTimersByTimeAsync(50);
    expect(calls).toHaveLength(1);
    calls[0]?.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.items.map((i) => i.n))).toEqual([[1], [2, 3]]);
  });

  it("batches lanes independently", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher({ lingerMs: 5, maxItems: 100, maxBytes: 10_000, ...serial }, send);
    void Promise.allSettled(batcher.add("a", [item(1)]));
    void Promise.allSettled(batcher.add("b", [item(2)]));
    void Promise.allSettled(batcher.add("a", [item(3)]));
    await vi.advanceTimersByTimeAsync(5);
    expect(calls.map((c) => [c.lane, c.items.map((i) => i.n)])).toEqual([
      ["a", [1, 3]],
      ["b", [2]],
    ]);
  });

  it("rejects every item of a batch whose sender throws, and per item on Error results", async () => {
    const perItem: BatchSender<Item, number> = async (_lane, items) =>
      items.map((i) => (i.n === 2 ? new Error("bad two") : i.n));
    const batcher = new Batcher(
      { lingerMs: 1, maxItems: 100, maxBytes: 10_000, ...serial },
      perItem,
    );
    const [one, two] = batcher.add("t", [item(1), item(2)]);
    const settled = Promise.allSettled([one, two]);
    await vi.advanceTimersByTimeAsync(1);
    const [first, second] = await settled;
    expect(first).toEqual({ status: "fulfilled", value: 1 });
    expect(second?.status).toBe("rejected");

    const { calls, send } = recordingSender();
    const failing = new Batcher({ lingerMs: 1, maxItems: 100, maxBytes: 10_000, ...serial }, send);
    const all = Promise.allSettled(failing.add("t", [item(1), item(2)]));
    await vi.advanceTimersByTimeAsync(1);
    calls[0]?.fail(new Error("down"));
    expect((await all).map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });

  it("flush sends at once and resolves when everything is answered", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher(
      { lingerMs: 60_000, maxItems: 100, maxBytes: 10_000, ...serial },
      send,
    );
    void Promise.allSettled(batcher.add("t", [item(1)]));
    let flushed = false;
    const flushing = batcher.flush().then(() => {
      flushed = true;
    });
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(flushed).toBe(false);
    calls[0]?.answer();
    await flushing;
    expect(batcher.pending).toBe(0);
  });

  it("keeps several batches in flight, but never two holding the same key", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher(
      { lingerMs: 1, maxItems: 2, maxBytes: 10_000, maxInFlight: 3 },
      send,
    );
    void Promise.allSettled(
      batcher.add("t", [
        keyed(1, "a"),
        keyed(2, "b"),
        keyed(3, "a"),
        item(4),
        item(5),
        keyed(6, "c"),
      ]),
    );
    // Batch 1 takes a1, b2. Key a is then in flight: a3 waits, 4 and 5 go, then c6 alone.
    expect(sent(calls)).toEqual([[1, 2], [4, 5], [6]]);
    calls[0]?.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent(calls)).toEqual([[1, 2], [4, 5], [6], [3]]);
  });

  it("does not let a key overtake its own item that did not fit", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher({ lingerMs: 1, maxItems: 10, maxBytes: 100, maxInFlight: 2 }, send);
    void Promise.allSettled(
      batcher.add("t", [item(1, 60, "k"), item(2, 60, "k"), item(3, 10, "k"), item(4, 10)]),
    );
    await vi.advanceTimersByTimeAsync(1);
    // k2 does not fit beside k1; k3 would, but must not pass k2. Unkeyed 4 may.
    expect(sent(calls)).toEqual([[1, 4]]);
    calls[0]?.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent(calls)).toEqual([
      [1, 4],
      [2, 3],
    ]);
  });

  it("keeps every key's order and answers every item through a long queue of busy keys", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher(
      { lingerMs: 1, maxItems: 50, maxBytes: 10_000, maxInFlight: 3 },
      send,
    );
    // Far more than the queue's compaction threshold, keys interleaved with unkeyed items,
    // so batches pass over busy keys from a queue whose head has moved.
    const items = Array.from({ length: 5_000 }, (_, n) =>
      n % 4 === 3 ? item(n) : keyed(n, `k${n % 3}`),
    );
    const answered = batcher.add("t", items);
    for (let round = 0; round < 1_000 && batcher.pending > 0; round++) {
      await vi.advanceTimersByTimeAsync(1);
      const inFlight = calls.filter((c) => !(c as { done?: boolean }).done);
      const keysInFlight = inFlight.flatMap((c) => [
        ...new Set(c.items.map((i) => i.key).filter((k) => k !== null)),
      ]);
      expect(new Set(keysInFlight).size).toBe(keysInFlight.length);
      const first = inFlight[0];
      if (first === undefined) continue;
      (first as { done?: boolean }).done = true;
      first.answer();
    }
    await expect(Promise.all(answered)).resolves.toEqual(items.map((i) => i.n * 10));
    const order = new Map<string | null, number[]>();
    for (const call of calls)
      for (const i of call.items) order.set(i.key, [...(order.get(i.key) ?? []), i.n]);
    for (const [key, ns] of order)
      if (key !== null) expect(ns).toEqual(items.filter((i) => i.key === key).map((i) => i.n));
    expect(calls.flatMap((c) => c.items.map((i) => i.n)).sort((x, y) => x - y)).toEqual(
      items.map((i) => i.n),
    );
  });
});

/** Real timers: the point is which of an immediate and a timer runs first. */
describe("Batcher with linger 0", () => {
  const zero = { lingerMs: 0, maxItems: 100, maxBytes: 10_000, ...serial };
  /** Resolves inside a timer callback, so the loop's next phases are poll, check, timers. */
  const inTimerPhase = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

  it("sends what one synchronous loop added in one batch, before a timer set just before it fires", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher(zero, send);
    await inTimerPhase();
    let sentWhenTimerFired: number[][] | undefined;
    setTimeout(() => {
      sentWhenTimerFired = sent(calls);
    }, 0);
    for (let n = 1; n <= 5; n++) void batcher.add("t", [item(n)]);
    expect(calls).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // A setTimeout(0) linger (1 ms in Node) would still be waiting behind the earlier timer.
    expect(sentWhenTimerFired).toEqual([[1, 2, 3, 4, 5]]);
  });

  it("also gathers items added by promise continuations of the same turn", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher(zero, send);
    await inTimerPhase();
    void batcher.add("t", [item(1)]);
    await Promise.resolve();
    await Promise.resolve();
    void batcher.add("t", [item(2)]);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent(calls)).toEqual([[1, 2]]);
  });

  it("sends an item added in a later turn in a batch of its own, without waiting for the first one's answer", async () => {
    const { calls, send } = recordingSender();
    const batcher = new Batcher({ ...zero, maxInFlight: 2 }, send);
    const first = batcher.add("t", [item(1)])[0];
    await new Promise((resolve) => setTimeout(resolve, 2));
    const second = batcher.add("t", [item(2)])[0];
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(sent(calls)).toEqual([[1], [2]]);
    for (const call of calls) call.answer();
    expect(await Promise.all([first, second])).toEqual([10, 20]);
  });
});
