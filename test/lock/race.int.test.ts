/**
 * The store lock between processes taking it at the same instant, without a whole router
 * around it (the CLI test in restart.int.test.ts does that, a few times, slowly): each child
 * imports the built lock (`dist/`, run `npm run build`), waits for one wall-clock instant
 * shared with its rival, and takes it. Exactly one of every pair may win, and the loser must
 * name the winner. A zero busy timeout failed this in 1 of 3–10 pairs: both climbers backed
 * off and no one owned the store. 12 pairs in `npm test`, 100 in `npm run test:lock`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const LOCK_MODULE = resolve("dist/engine/sqlite/store-lock.js");
/** One pair at a time: on two cores, more rivals than cores take turns instead of racing. */
const PAIRS = process.env.SWITCHYARD_LOCK_LONG === "1" ? 100 : 12;
/** Far enough ahead that both children have loaded before the instant comes. */
const START_AHEAD_MS = 300;

const CHILD = `
const { lockStore } = await import(process.env.LOCK_MODULE);
const at = Number(process.env.AT);
const nap = at - Date.now() - 5;
if (nap > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, nap);
while (Date.now() < at) {} // the last milliseconds spun, so both start on the instant
try {
  globalThis.lock = lockStore(process.env.DIR); // kept: a collected lock is closed
  console.log("won " + process.pid);
  setInterval(() => {}, 60_000); // holds the lock until killed
} catch (error) {
  console.log("lost " + error.message);
  process.exit(1);
}`;

interface Contender {
  readonly child: ChildProcess;
  /** The child's first line: "won PID" or "lost MESSAGE". */
  readonly line: Promise<string>;
}

function contend(dir: string, at: number): Contender {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], {
    env: { ...process.env, LOCK_MODULE, DIR: dir, AT: String(at) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const line = new Promise<string>((done, fail) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) done(out.slice(0, out.indexOf("\n")));
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("exit", (code) => fail(new Error(`child exited ${code} without a line: ${err}`)));
  });
  return { child, line };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("store lock: two processes at the same instant", () => {
  it(`lets exactly one of each pair in, ${PAIRS} pairs`, async () => {
    for (let pair = 1; pair <= PAIRS; pair++) {
      const dir = await mkdtemp(join(tmpdir(), "switchyard-lock-race-"));
      dirs.push(dir);
      const at = Date.now() + START_AHEAD_MS;
      const contenders = [contend(dir, at), contend(dir, at)];
      try {
        const lines = await Promise.all(contenders.map((c) => c.line));
        const won = lines.filter((line) => line.startsWith("won "));
        expect(won, `pair ${pair}: ${lines.join(" | ")}`).toHaveLength(1);
        const winner = won[0]?.slice("won ".length);
        expect(lines.find((line) => line.startsWith("lost "))).toBe(
          `lost the store in ${dir} is in use by process ${winner}; stop it first`,
        );
      } finally {
        for (const { child } of contenders) child.kill("SIGKILL");
      }
    }
  }, 60_000);
});
