/**
 * A projection under SIGKILL: its consumer (a child process on a SQLite file) is killed at
 * random moments while events are published, and restarted. The handler yields inside its
 * transaction and batches are small, so kills land before, inside and after commits, and
 * between a commit and its ack. Afterwards every event is applied exactly once: one row per
 * offset in the read model, each key's rows in log order and its counter equal to its events.
 * Short by default (4 kills); `SWITCHYARD_CRASH_LONG=1` kills 20 times.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/index.js";
import { eventually } from "../support/eventually.js";
import { startTestRouter, type TestRouter } from "../support/router.js";

const LONG = process.env.SWITCHYARD_CRASH_LONG === "1";
const KILLS = LONG ? 20 : 4;
const EVENTS = LONG ? 20_000 : 4_000;
const KEYS = 40;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function startChild(args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "./test/support/ts-resolve.ts", "test/support/projection-crash-child.ts", ...args],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-16_384);
  });
  return new Promise((done, fail) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("started")) done(child);
    });
    child.once("exit", (code) => fail(new Error(`projection child exited (${code}):\n${output}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null)
    throw new Error("the child exited by itself");
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

describe("projection crash", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-projection-crash-"));
  let router: TestRouter | undefined;
  afterAll(async () => {
    await router?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`applies every event exactly once across ${KILLS} SIGKILLs of the consumer`, {
    timeout: 180_000,
  }, async () => {
    router = await startTestRouter();
    const client = createClient({ url: router.url });
    const topic = "steps";
    await client.admin.topics.put(topic);
    const file = join(dir, "model.sqlite");
    const args = [router.url, file, topic, "crash"];

    let published = 0;
    const publishing = (async () => {
      while (published < EVENTS) {
        const batch = Array.from({ length: 50 }, (_, i) => {
          const seq = published + i;
          const key = `k${seq % KEYS}`;
          return { type: "step", partitionkey: key, data: { key, seq } };
        });
        await client.publish(topic, batch);
        published += batch.length;
        await sleep(5);
      }
    })();

    let child = await startChild(args);
    for (let n = 0; n < KILLS; n++) {
      await sleep(150 + Math.floor(Math.random() * 500));
      await kill(child);
      child = await startChild(args);
    }
    await publishing;

    const db = new DatabaseSync(file);
    db.exec("PRAGMA busy_timeout = 5000");
    try {
      await eventually(
        () => expect(db.prepare("SELECT count(*) AS n FROM applied").get()).toEqual({ n: EVENTS }),
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      // Anything still to come would be a double application: wait until nothing is left.
      await eventually(
        async () => {
          const stats = (await client.admin.subscriptions.get("projection-crash")).stats;
          expect(stats).toMatchObject({ lag: 0, inFlight: 0 });
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      await kill(child);
      const twice = db
        .prepare("SELECT offset, count(*) AS n FROM applied GROUP BY offset HAVING n <> 1")
        .all();
      expect(twice).toEqual([]);
      expect(db.prepare("SELECT count(DISTINCT seq) AS n FROM applied").get()).toEqual({
        n: EVENTS,
      });
      const counts = db.prepare("SELECT key, n FROM counts ORDER BY key").all() as {
        key: string;
        n: number;
      }[];
      expect(counts).toHaveLength(KEYS);
      for (const { n } of counts) expect(n).toBe(EVENTS / KEYS);
      // Per key, applied in log order (rowid order is application order).
      const order = db.prepare("SELECT key, seq FROM applied__r1 ORDER BY rowid").all() as {
        key: string;
        seq: number;
      }[];
      const last = new Map<string, number>();
      for (const { key, seq } of order) {
        expect(seq).toBeGreaterThan(last.get(key) ?? -1);
        last.set(key, seq);
      }
    } finally {
      db.close();
      await client.close();
    }
  });
});
