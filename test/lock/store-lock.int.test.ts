/**
 * The store lock across processes, with the built module (`dist/`, run `npm run build`): a
 * child takes the lock and holds it; this process is refused, naming the child's pid; the
 * child is SIGKILLed and the lock can be taken at once, with no stale state to clean up.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { lockStore } from "../../src/engine/sqlite/store-lock.js";

const MODULE = pathToFileURL(
  resolve(import.meta.dirname, "../../dist/engine/sqlite/store-lock.js"),
).href;

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0).reverse()) step();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sy-lock-proc-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A child process that takes the lock with the built module, then waits to be killed. */
async function holder(dir: string): Promise<ChildProcess> {
  const script = `
    const { lockStore } = await import(${JSON.stringify(MODULE)});
    lockStore(${JSON.stringify(dir)});
    process.stdout.write("locked\\n");
    setInterval(() => {}, 60_000);
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanup.push(() => child.kill("SIGKILL"));
  let output = "";
  await new Promise<void>((done, fail) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      if (output.includes("locked\n")) done();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => fail(new Error(`lock holder exited (${code}):\n${output}`)));
  });
  return child;
}

describe("lockStore across processes", () => {
  it("refuses while a live process holds the store, naming it", async () => {
    const dir = tempDir();
    const child = await holder(dir);
    expect(() => lockStore(dir)).toThrow(
      expect.objectContaining({
        code: "engine_unavailable",
        message: `the store in ${dir} is in use by process ${child.pid}; stop it first`,
      }),
    );
  });

  it("can be taken at once after the holder is SIGKILLed, 10 times in a row", async () => {
    const dir = tempDir();
    for (let i = 0; i < 10; i++) {
      const child = await holder(dir);
      expect(() => lockStore(dir)).toThrow(/in use by process/);
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
      // The dead holder's pid file is still there; it is not what decides.
      expect(readFileSync(join(dir, "switchyard.lock"), "utf8")).toBe(String(child.pid));
      const lock = lockStore(dir);
      expect(readFileSync(join(dir, "switchyard.lock"), "utf8")).toBe(String(process.pid));
      lock.release();
    }
  });
});
