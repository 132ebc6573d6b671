/**
 * The CPU budget in CI: `bench/main.ts --budget` measures router CPU µs/event of every budget
 * scenario against the built router and exits 1 when one is more than the baseline's
 * tolerance (25%) above the committed bench/baseline.json. The judgement itself is tested
 * with regressed figures in budget.test.ts; this runs the real measurement.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUDGET } from "../../bench/budget-run.ts";

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bench/main.ts");

interface Exit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runBench(args: readonly string[], timeoutMs: number): Promise<Exit> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

describe("bench --budget", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchyard-bench-budget-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a malformed baseline before measuring anything", async () => {
    const path = join(dir, "bad.json");
    await writeFile(path, JSON.stringify({ tolerance: 0.25, scenarios: { drain: {} } }));
    const exit = await runBench(["--budget", "--baseline", path], 20_000);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain("scenarios.drain.cpuUsPerEvent must be a positive number");
    expect(exit.stderr).not.toContain("budget: publish-batched");
  });

  it("keeps router CPU per event within 25% of bench/baseline.json", async () => {
    const exit = await runBench(["--budget", "--out", dir, "--data-root", dir], 240_000);
    const report = `${exit.stdout}\n${exit.stderr.slice(-4000)}`;
    for (const entry of BUDGET)
      expect(exit.stdout, report).toMatch(new RegExp(`\\| ${entry.name} `));
    expect(exit.stdout, report).toContain("budget: within the baseline");
    expect(exit.code, report).toBe(0);
  }, 300_000);
});
