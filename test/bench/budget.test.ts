/**
 * The CPU budget's judgement (bench/budget.ts): a figure more than the tolerance above its
 * baseline fails, one at or under it passes, a scenario without a baseline or without a
 * figure fails, and a missing or malformed baseline file is refused with a clear message.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Baseline,
  formatBudget,
  judgeBudget,
  readBaseline,
  writeBaseline,
} from "../../bench/budget.ts";

const figure = (cpuUsPerEvent: number) => ({
  cpuUsPerEvent,
  runs: [cpuUsPerEvent],
  events: 100_000,
  starvedPercent: 5,
});

const baseline: Baseline = {
  about: "test",
  producedAt: "2026-12-07T00:00:00.000Z",
  command: "npm run bench -- --update-baseline",
  machine: {
    cores: 2,
    cpu: "test cpu",
    memoryGiB: 1,
    node: "v24",
    platform: "linux-x64",
    commit: "abc1234",
    loadAverage: "0 0 0",
  },
  tolerance: 0.25,
  scenarios: { "publish-batched": figure(8), drain: figure(10) },
};

describe("judgeBudget", () => {
  it("fails a figure more than 25% above its baseline", () => {
    const judgement = judgeBudget(baseline, { "publish-batched": 10.1, drain: 10 }, 0.25);
    expect(judgement.ok).toBe(false);
    expect(judgement.rows).toEqual([
      {
        scenario: "publish-batched",
        baseline: 8,
        measured: 10.1,
        ratio: 10.1 / 8,
        verdict: "regressed",
      },
      { scenario: "drain", baseline: 10, measured: 10, ratio: 1, verdict: "pass" },
    ]);
    expect(formatBudget(judgement, 0.25)).toContain("budget: FAILED");
  });

  it("passes figures up to the tolerance, and faster ones", () => {
    const judgement = judgeBudget(baseline, { "publish-batched": 10, drain: 4 }, 0.25);
    expect(judgement.ok).toBe(true);
    expect(judgement.rows.map((r) => r.verdict)).toEqual(["pass", "pass"]);
    expect(formatBudget(judgement, 0.25)).toContain("budget: within the baseline");
  });

  it("applies the tolerance it is given", () => {
    expect(judgeBudget(baseline, { drain: 10.6 }, 0.05).ok).toBe(false);
    expect(judgeBudget(baseline, { drain: 10.4 }, 0.05).ok).toBe(true);
  });

  it("fails a scenario without a baseline and one that produced no figure", () => {
    const judgement = judgeBudget(
      baseline,
      { "publish-batched": 8, "publish-traced": 16, drain: Number.NaN },
      0.25,
    );
    expect(judgement.ok).toBe(false);
    expect(judgement.rows.map((r) => [r.scenario, r.verdict])).toEqual([
      ["publish-batched", "pass"],
      ["publish-traced", "no baseline"],
      ["drain", "not measured"],
    ]);
  });

  it("names baseline scenarios the budget no longer measures, without failing", () => {
    const judgement = judgeBudget(baseline, { "publish-batched": 8 }, 0.25);
    expect(judgement.ok).toBe(true);
    expect(judgement.stale).toEqual(["drain"]);
    expect(formatBudget(judgement, 0.25)).toContain("no longer measured: drain");
  });
});

describe("baseline files", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchyard-budget-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads back what it writes", () => {
    const path = join(dir, "baseline.json");
    writeBaseline(path, baseline);
    expect(readBaseline(path)).toEqual(baseline);
  });

  it("refuses a missing file, pointing at the command that writes one", () => {
    expect(() => readBaseline(join(dir, "absent.json"))).toThrow(/--update-baseline/);
  });

  it("refuses malformed files with the reason", async () => {
    const cases: [string, RegExp][] = [
      ["{", /is not JSON/],
      ["[]", /tolerance must be a positive number/],
      [JSON.stringify({ tolerance: 0.25 }), /scenarios must be an object/],
      [
        JSON.stringify({ tolerance: 0.25, scenarios: { drain: { cpuUsPerEvent: "9" } } }),
        /scenarios\.drain\.cpuUsPerEvent must be a positive number/,
      ],
      [
        JSON.stringify({ tolerance: 0.25, scenarios: { drain: { cpuUsPerEvent: 0 } } }),
        /scenarios\.drain\.cpuUsPerEvent must be a positive number/,
      ],
    ];
    for (const [index, [text, message]] of cases.entries()) {
      const path = join(dir, `bad-${index}.json`);
      await writeFile(path, text);
      expect(() => readBaseline(path)).toThrow(message);
    }
  });
});
