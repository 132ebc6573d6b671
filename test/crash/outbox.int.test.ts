/**
 * The outbox under SIGKILL: writers commit interleaved transactions (some rolled back, some
 * committing after higher ids) into an outbox table while the relay (the real CLI,
 * `switchyard outbox relay`) and the router (the real CLI) are killed with SIGKILL at random
 * moments and restarted. Afterwards the log equals the outbox: every committed row once, no
 * rolled-back row, the rows of each key in id order. Short by default (3 kills, part of
 * `npm test`); `SWITCHYARD_CRASH_LONG=1` (`npm run test:crash`) kills 20 times.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createClient, createOutbox, type StoredEvent } from "../../src/client/index.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

const LONG = process.env.SWITCHYARD_CRASH_LONG === "1";
const KILLS = LONG ? 20 : 3;
const WRITERS = 4;
const KEYS = 8;
const TOPIC = "orders";
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard.js");
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The relay as a child process; `start` retries while the killed one's session still holds the lock. */
class RelayProcess {
  child: ChildProcess | undefined;
  output = "";
  readonly args: readonly string[];
  constructor(args: readonly string[]) {
    this.args = args;
  }

  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const child = spawn(process.execPath, [BIN, "outbox", "relay", ...this.args], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let text = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        this.output = (this.output + chunk.toString()).slice(-32_768);
      });
      const exited = once(child, "exit");
      const started = new Promise<void>((done) => {
        child.stderr?.on("data", () => {
          if (text.includes("(lock held)")) done();
        });
      });
      const first = await Promise.race([
        started.then(() => "started"),
        exited.then(() => "exited"),
      ]);
      if (first === "started") {
        this.child = child;
        return;
      }
      if (!text.includes("relay_locked") || attempt > 100)
        throw new Error(`relay did not start:\n${text}`);
      await sleep(100);
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the relay exited by itself (${child.exitCode}):\n${this.output}`);
    const exited = once(child, "exit");
    process.kill(child.pid, "SIGKILL");
    await exited;
    this.child = undefined;
  }
}

async function readLog(url: string): Promise<StoredEvent[]> {
  const client = createClient({ url });
  const events: StoredEvent[] = [];
  for (let from = 1; ; ) {
    const page = await client.admin.read(TOPIC, { from, limit: 1000 });
    if (page.events.length === 0) return events;
    events.push(...page.events);
    from = page.next;
  }
}

describe("crash: the outbox relay and the router killed under concurrent writers", () => {
  let database: TestDatabase | undefined;
  let router: RouterProcess | undefined;
  let relay: RelayProcess | undefined;
  let dataDir: string | undefined;
  let pool: pg.Pool | undefined;

  afterAll(async () => {
    await relay?.kill();
    await router?.kill();
    await pool?.end();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    `log equals outbox after ${KILLS} SIGKILLs of relay and router`,
    async () => {
      database = await createTestDatabase();
      dataDir = await mkdtemp(join(tmpdir(), "switchyard-outbox-crash-"));
      router = await startRouterProcess({ dataDir });
      await createClient({ url: router.url }).admin.topics.put(TOPIC);
      const init = spawn(process.execPath, [BIN, "outbox", "init", "--postgres", database.url]);
      expect((await once(init, "exit"))[0]).toBe(0);
      relay = new RelayProcess([
        "--postgres",
        database.url,
        "--router",
        router.url,
        "--progress",
        "1",
      ]);
      await relay.start();

      pool = new pg.Pool({ connectionString: database.url, max: WRITERS + 2 });
      // Dropping the database ends idle pooled sessions: the pool reports it, nobody needs to.
      pool.on("error", () => undefined);
      const outbox = createOutbox();
      let writing = true;
      let committed = 0;
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        for (let t = 0; writing; t++) {
          const tx = await (pool as pg.Pool).connect();
          try {
            await tx.query("BEGIN");
            for (let e = 0; e < 1 + (t % 3); e++) {
              const key = `k${(w * 3 + t + e) % KEYS}`;
              await outbox.enqueue(tx, {
                topic: TOPIC,
                type: "t",
                partitionkey: key,
                data: { w, t, e },
              });
              await sleep(Math.random() * 4);
            }
            const rollback = t % 9 === 4;
            await tx.query(rollback ? "ROLLBACK" : "COMMIT");
            if (!rollback) committed++;
          } finally {
            tx.release();
          }
        }
      });

      const routerProcess = router;
      for (let kill = 0; kill < KILLS; kill++) {
        await sleep(300 + Math.random() * 700);
        const which = kill % 3; // relay, router, both
        if (which !== 1) await relay.kill();
        if (which !== 0) await routerProcess.kill();
        await sleep(Math.random() * 300);
        if (which !== 0) await routerProcess.start();
        if (which !== 1) await relay.start();
      }
      writing = false;
      await Promise.all(writers);
      expect(committed).toBeGreaterThan(KILLS * 5);

      const { rows } = await pool.query<{
        id: string;
        event: { id: string; partitionkey: string };
      }>("SELECT id, event FROM outbox ORDER BY id");
      const last = Number(rows.at(-1)?.id);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const state = await pool.query<{ published_to: string }>(
          "SELECT published_to FROM outbox_relay",
        );
        if (Number(state.rows[0]?.published_to) >= last) break;
        if (Date.now() > deadline) throw new Error(`relay did not drain:\n${relay.output}`);
        await sleep(100);
      }

      const log = await readLog(routerProcess.url);
      expect(new Set(log.map((e) => e.id)).size, "no duplicate in the log").toBe(log.length);
      expect(log.map((e) => e.id).sort(), "the log holds exactly the committed rows").toEqual(
        rows.map((r) => r.event.id).sort(),
      );
      const perKey = (items: readonly { id: string; key: unknown }[]) => {
        const keys: Record<string, string[]> = {};
        for (const { id, key } of items) keys[String(key)] = [...(keys[String(key)] ?? []), id];
        return keys;
      };
      expect(
        perKey(log.map((e) => ({ id: e.id, key: e.partitionkey }))),
        "id order per key",
      ).toEqual(perKey(rows.map((r) => ({ id: r.event.id, key: r.event.partitionkey }))));
      console.log(
        `outbox crash: ${rows.length} rows, ${KILLS} kills; relay's last lines:\n${relay.output.trim().split("\n").slice(-3).join("\n")}`,
      );
    },
    LONG ? 600_000 : 90_000,
  );
});
