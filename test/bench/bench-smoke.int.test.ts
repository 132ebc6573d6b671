/**
 * The benchmark still runs end to end: `bench/main.ts --quick --runs 1` against the built
 * router, every scenario producing a figure. Figures are not judged here (speed targets live
 * in the benchmark itself), only that each scenario ran and the JSON report was written.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bench/main.ts");

interface Report {
  readonly results: readonly {
    readonly scenario: string;
    readonly median: number | null;
    readonly error?: string;
  }[];
}

describe("bench --quick", () => {
  let out: string | undefined;
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it("runs every scenario once and writes the JSON report", async () => {
    out = await mkdtemp(join(tmpdir(), "switchyard-bench-smoke-"));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [MAIN, "--quick", "--runs", "1", "--out", out, "--data-root", out],
      { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toContain("| scenario");
    const files = (await readdir(out)).filter((f) => f.endsWith(".json"));
    expect(files).toHaveLength(1);
    const report = JSON.parse(await readFile(join(out, files[0] ?? ""), "utf8")) as Report;
    expect(report.results.map((r) => r.scenario)).toEqual([
      "publish-batched",
      "publish-http",
      "latency",
      "drain",
      "fanout",
      "push",
      "push-batched",
      "push-latency",
      "publish-10m",
    ]);
    for (const result of report.results) {
      expect(result.error).toBeUndefined();
      expect(result.median).toBeGreaterThan(0);
    }
  }, 300_000);
});
