import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

describe("package-lock.json", () => {
  it("lists every optional platform package, so `npm ci` accepts it", async () => {
    const script = new URL("../scripts/complete-lockfile.mjs", import.meta.url).pathname;
    const run = promisify(execFile)(process.execPath, [script, "--check"]);
    await expect(run).resolves.toBeDefined();
  });
});
