/** A bench script given an option it does not take says so in one line and exits 2. */
import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const run = promisify(execFile);

async function bench(script: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("bench script options", () => {
  it("refuses an unknown option in one line with exit 2", async () => {
    const answer = await bench("bench/scale/main.ts", "--evnts", "10");
    expect(answer.code).toBe(2);
    expect(answer.stderr.trim().split("\n")).toEqual([
      "bench/scale/main.ts: Unknown option '--evnts' (--help lists the options)",
    ]);
  });

  it("refuses an unusable value in one line with exit 2", async () => {
    const answer = await bench("bench/scale/main.ts", "--events", "ten");
    expect(answer.code).toBe(2);
    expect(answer.stderr.trim()).toBe("bench/scale/main.ts: --events must be an integer ≥ 0");
  });

  it("lists its options and defaults on --help", async () => {
    const answer = await bench("bench/scale/main.ts", "--help");
    expect(answer.code).toBe(0);
    expect(answer.stdout).toContain("usage: node bench/scale/main.ts [options]");
    expect(answer.stdout).toContain("--events <value> (default 100000000)");
  });
});
