import { describe, expect, it } from "vitest";
import { checkFlat, type Sample, usageTable } from "./usage.js";

function sample(cycle: number, rssKiB: number, fds: number): Sample {
  return {
    cycle,
    atSec: cycle * 60,
    pid: 1000 + cycle,
    restartMs: 1500,
    rssKiB,
    peakRssKiB: rssKiB + 1024,
    fds,
    dataBytes: cycle * 1024 * 1024,
    published: cycle * 100,
    pulled: cycle * 90,
    pushed: cycle * 80,
    deadLettered: cycle,
    redriven: cycle - 1,
  };
}

describe("soak usage", () => {
  const base = [sample(1, 90_000, 30), sample(2, 100_000, 31), sample(3, 100_000, 30)];

  it("accepts RSS within 10% and fds within ±5 of cycle 3", () => {
    expect(checkFlat([...base, sample(4, 110_000, 35)])).toEqual([]);
    expect(checkFlat([...base, sample(4, 80_000, 25)])).toEqual([]);
  });

  it("reports RSS growth past 10% and fds moved by more than 5", () => {
    expect(checkFlat([...base, sample(30, 110_100, 36)])).toEqual([
      "RSS grew: cycle 30 107.5 MiB > cycle 3 97.7 MiB + 10%",
      "open fds moved: cycle 30 36 vs cycle 3 30 (±5 allowed)",
    ]);
    expect(checkFlat([...base, sample(4, 100_000, 24)])).toHaveLength(1);
  });

  it("refuses to judge without a sample after the baseline", () => {
    expect(checkFlat(base)).toEqual(["need samples past cycle 3, have 3"]);
  });

  it("prints one aligned row per cycle", () => {
    const lines = usageTable([...base, sample(4, 100_000, 30)]).split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^cycle {2}at s/);
    expect(lines[4]).toMatch(
      /^ {4}4 +240 +1004 +1\.5 +97\.7 +98\.7 +30 +4\.0 +400 +360 +320 +4 +3$/,
    );
  });
});
