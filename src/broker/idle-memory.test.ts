import { getHeapSpaceStatistics } from "node:v8";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../testing/wait-for.js";
import { IdleMemory } from "./idle-memory.js";

const youngGenerationBytes = (): number =>
  getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0;

/** Allocates like a burst of requests: many short-lived objects, a window of them surviving. */
function burst(): void {
  let window: { seq: number; body: string }[] = [];
  for (let seq = 0; seq < 2_000_000; seq++) {
    window.push({ seq, body: `event ${seq}` });
    if (window.length > 100_000) window = window.slice(50_000);
  }
}

/** Keeps the event loop busy for `ms`. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

describe("IdleMemory", () => {
  let idle: IdleMemory | undefined;
  afterEach(() => idle?.close());

  it("collects once per quiet period and again after the loop was busy", async () => {
    let releases = 0;
    // Quiet below 30% of 200 ms samples: a test worker on a shared CI machine is not at 0.
    const options = { sampleMs: 200, quietSamples: 2, busyBelow: 0.3 };
    idle = new IdleMemory({ ...options, onRelease: () => releases++ });
    await waitFor(() => releases === 1, { timeoutMs: 10_000, intervalMs: 25 });
    await new Promise((done) => setTimeout(done, 1_000));
    expect(releases).toBe(1);
    // A sample during which the loop was busy (spinning across at least one whole sample)
    // re-arms it.
    spin(500);
    await waitFor(() => releases === 2, { timeoutMs: 10_000, intervalMs: 25 });
  });

  it("gives back the young generation a burst grew, right after it", async () => {
    burst();
    const grown = youngGenerationBytes();
    // Else this Node does not grow it for such a burst, and the test proves nothing.
    expect(grown).toBeGreaterThanOrEqual(32 * 2 ** 20);
    let released = false;
    idle = new IdleMemory({
      sampleMs: 100,
      quietSamples: 3,
      busyBelow: 0.2,
      onRelease: () => {
        released = true;
      },
    });
    await waitFor(() => released, { timeoutMs: 10_000, intervalMs: 25 });
    expect(youngGenerationBytes()).toBeLessThan(grown / 2);
  });
});
