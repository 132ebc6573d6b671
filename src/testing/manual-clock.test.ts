import { describe, expect, it } from "vitest";
import { ManualClock } from "./manual-clock.js";

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("ManualClock", () => {
  it("stands still until advanced, then moves by exactly the amount", async () => {
    const clock = new ManualClock({ start: 1_000 });
    await turn();
    expect(clock.now()).toBe(1_000);
    await clock.advance(250);
    expect(clock.now()).toBe(1_250);
    await clock.advance(0);
    expect(clock.now()).toBe(1_250);
  });

  it("fires due timers in due order, ties in the order set, each at its own moment", async () => {
    const clock = new ManualClock({ start: 0 });
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    clock.setTimeout(at("c"), 30);
    clock.setTimeout(at("a"), 10);
    clock.setTimeout(at("b1"), 20);
    clock.setTimeout(at("b2"), 20);
    clock.setTimeout(at("late"), 31);
    await clock.advance(30);
    expect(fired).toEqual(["a@10", "b1@20", "b2@20", "c@30"]);
    expect(clock.pending).toBe(1);
    expect(clock.nextAt()).toBe(31);
    await clock.advance(1);
    expect(fired.at(-1)).toBe("late@31");
    expect(clock.nextAt()).toBeNull();
  });

  it("fires timers that fired timers set when they fall within the same advance", async () => {
    const clock = new ManualClock({ start: 0 });
    const fired: number[] = [];
    const chain = () => {
      fired.push(clock.now());
      clock.setTimeout(chain, 40);
    };
    clock.setTimeout(chain, 40);
    await clock.advance(100);
    expect(fired).toEqual([40, 80]);
    expect(clock.nextAt()).toBe(120);
  });

  it("lets the async work a timer starts settle before the next timer fires", async () => {
    const clock = new ManualClock({ start: 0 });
    const log: string[] = [];
    clock.setTimeout(() => {
      void (async () => {
        await turn(); // a commit scheduled with setImmediate, say
        await Promise.resolve();
        await turn();
        log.push("first's work done");
      })();
    }, 10);
    clock.setTimeout(() => log.push("second fired"), 11);
    await clock.advance(20);
    expect(log).toEqual(["first's work done", "second fired"]);
  });

  it("settles work already under way before it moves time", async () => {
    const clock = new ManualClock({ start: 0 });
    let armedAt: number | null = null;
    void (async () => {
      await turn();
      await turn();
      armedAt = clock.now();
      clock.setTimeout(() => {}, 5); // due within the advance only if set before it moved time
    })();
    await clock.advance(10);
    expect(armedAt).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it("never fires a cancelled timer", async () => {
    const clock = new ManualClock({ start: 0 });
    const fired: string[] = [];
    const once = clock.setTimeout(() => fired.push("once"), 10);
    const every = clock.setInterval(() => fired.push("every"), 10);
    once.cancel();
    await clock.advance(10);
    every.cancel();
    await clock.advance(100);
    expect(fired).toEqual(["every"]);
    expect(clock.pending).toBe(0);
  });

  it("fires an interval each period while other timers interleave", async () => {
    const clock = new ManualClock({ start: 0 });
    const ticks: number[] = [];
    clock.setInterval(() => ticks.push(clock.now()), 10);
    for (const ms of [15, 25, 35]) clock.setTimeout(() => {}, ms);
    await clock.advance(40);
    expect(ticks).toEqual([10, 20, 30, 40]);
  });

  it("collapses an interval's periods with nothing else between them into one, at the last", async () => {
    const clock = new ManualClock({ start: 0 });
    const ticks: number[] = [];
    clock.setInterval(() => ticks.push(clock.now()), 30_000);
    clock.setTimeout(() => ticks.push(-clock.now()), 100_000);
    await clock.advance(7 * 24 * 3_600_000);
    // 90 s is the last period before the timeout at 100 s; a week is a multiple of 30 s.
    expect(ticks).toEqual([90_000, -100_000, 7 * 24 * 3_600_000]);
    expect(clock.nextAt()).toBe(7 * 24 * 3_600_000 + 30_000);
  });

  it("runs a timer due now on the next turn, without advancing", async () => {
    const clock = new ManualClock({ start: 0 });
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("zero"), 0);
    clock.setTimeout(() => fired.push("negative"), -5);
    clock.setTimeout(() => fired.push("cancelled"), 0).cancel();
    expect(fired).toEqual([]);
    await turn();
    expect(fired).toEqual(["zero", "negative"]);
    expect(clock.now()).toBe(0);
  });

  it("queues an advance asked for while one runs", async () => {
    const clock = new ManualClock({ start: 0 });
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 15);
    clock.setTimeout(() => seen.push(clock.now()), 25);
    await Promise.all([clock.advance(10), clock.advance(10), clock.advance(10)]);
    expect(seen).toEqual([15, 25]);
    expect(clock.now()).toBe(30);
  });

  it("refuses to go backwards or to nowhere", async () => {
    const clock = new ManualClock({ start: 0 });
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.POSITIVE_INFINITY)).rejects.toThrow(RangeError);
    expect(clock.now()).toBe(0);
  });

  it("rejects the advance a throwing timer ran in, and keeps the later timers", async () => {
    const clock = new ManualClock({ start: 0 });
    const fired: number[] = [];
    clock.setTimeout(() => {
      throw new Error("boom");
    }, 10);
    clock.setTimeout(() => fired.push(clock.now()), 20);
    await expect(clock.advance(30)).rejects.toThrow("boom");
    expect(clock.now()).toBe(10);
    await clock.advance(20);
    expect(fired).toEqual([20]);
  });
});
