/**
 * The store lock through the real CLI (`bin/switchyard.js` from `dist/`, run `npm run build`):
 * `switchyard dev` killed with SIGKILL restarts at once on the same data directory, every
 * time; of two routers started at the same instant on one store, exactly one serves and the
 * other exits non-zero naming the first one's pid. Short by default (5 restarts, 3 pairs:
 * part of `npm test`); `SWITCHYARD_LOCK_LONG=1` (`npm run test:lock`) runs 50 and 20, which
 * took 46–148 s and 59–100 s on a shared 2-core machine (each start loads a whole router).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RouterProcess, startRouterProcess } from "../support/router-process.js";

const LONG = process.env.SWITCHYARD_LOCK_LONG === "1";
const CYCLES = LONG ? 50 : 5;
const PAIRS = LONG ? 20 : 3;

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-lock-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readyz(url: string): Promise<number> {
  const response = await fetch(`${url}/readyz`);
  await response.arrayBuffer();
  return response.status;
}

describe("store lock: the real CLI", () => {
  it(
    `restarts at once after kill -9, ${CYCLES} times in a row`,
    async () => {
      const dataDir = await tempDir();
      const router = await startRouterProcess({ dataDir, command: "dev" });
      cleanup.push(() => router.kill());
      const url = router.url;
      const started = Date.now();
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const before = router.pid;
        // restart(): SIGKILL, wait for the exit, spawn again at once (no wait, no cleanup).
        await router.restart().catch((error: unknown) => {
          throw new Error(`restart ${cycle} failed: ${String(error)}`);
        });
        expect(router.pid).not.toBe(before);
        expect(router.url).toBe(url);
        expect(await readyz(url)).toBe(200);
      }
      console.log(`${CYCLES} kill -9 → restart cycles in ${Date.now() - started} ms`);
    },
    CYCLES * 5_000,
  );

  it("starts on a store whose pid file names a live process that is not a router (reused pid)", async () => {
    const dataDir = await tempDir();
    const stranger = spawn(process.execPath, ["-e", "setInterval(() => {}, 60_000)"]);
    cleanup.push(async () => void stranger.kill("SIGKILL"));
    // What a crash leaves: the dead owner's pid, meanwhile given to an unrelated process.
    await writeFile(join(dataDir, "switchyard.lock"), String(stranger.pid));
    const router = await startRouterProcess({ dataDir, command: "dev" });
    cleanup.push(() => router.kill());
    expect(await readyz(router.url)).toBe(200);
  });

  it(
    `lets exactly one of two routers started together open a store, ${PAIRS} times`,
    async () => {
      const started = Date.now();
      for (let pair = 1; pair <= PAIRS; pair++) {
        const dataDir = await tempDir();
        const routers = [0, 1].map(
          () => new RouterProcess({ dataDir, command: "dev", readyTimeoutMs: 30_000 }),
        );
        // Both children are spawned in this tick, before either can take the lock.
        const results = await Promise.allSettled(routers.map((r) => r.start()));
        const winners = routers.filter((_, i) => results[i]?.status === "fulfilled");
        const losers = routers.filter((_, i) => results[i]?.status === "rejected");
        try {
          const said = routers.map((r, i) => `router ${i + 1}: ${r.output.slice(-600)}`);
          expect(winners, `pair ${pair}\n${said.join("\n")}`).toHaveLength(1);
          const [winner] = winners;
          const [loser] = losers;
          if (winner === undefined || loser === undefined) throw new Error("unreachable");
          expect(await readyz(winner.url)).toBe(200);
          expect(loser.exitCode).not.toBe(0);
          expect(loser.exitCode).not.toBeNull();
          expect(loser.output).toContain(
            `error: the store in ${dataDir} is in use by process ${winner.pid}; stop it first (engine_unavailable)`,
          );
        } finally {
          await Promise.all(routers.map((r) => r.kill()));
        }
      }
      console.log(`${PAIRS} simultaneous pairs in ${Date.now() - started} ms`);
    },
    PAIRS * 10_000,
  );
});
