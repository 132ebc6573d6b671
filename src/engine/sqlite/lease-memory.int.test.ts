/**
 * First leases held in memory (pending-leases.ts), on a real store file: the happy path
 * writes no `deliveries` row, what a crash would lose is saved with the cursor, a reopen after
 * a crash takes exactly the held offsets as leased, a clean close keeps old ackIds working,
 * the spread is bounded, and a job rolled back leaves no entry behind.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../core/clock.js";
import { SUBSCRIPTION_DEFAULTS, type SubscriptionConfig } from "../../core/config.js";
import type { Delivery, Engine, NewEvent } from "../engine.js";
import { Db } from "./database.js";
import { GroupCommit } from "./group-commit.js";
import { openSqliteEngine } from "./index.js";
import { addPending, decodeHeld, MAX_SPREAD } from "./pending-leases.js";
import { migrate } from "./schema.js";
import { LOCK_DB_FILE, LOCK_PID_FILE } from "./store-lock.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sy-lease-memory-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function events(count: number, from = 0): NewEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `e-${from + i}`;
    const body = JSON.stringify({ specversion: "1.0", id, source: "/s", type: "t" });
    return { id, source: "/s", key: null, body };
  });
}

function subscription(overrides: Partial<SubscriptionConfig> = {}): SubscriptionConfig {
  return {
    name: "s",
    topic: "t",
    filter: null,
    start: "earliest",
    ackTimeoutMs: 60_000,
    maxAttempts: 10,
    backoff: { ...SUBSCRIPTION_DEFAULTS.backoff },
    deadLetterTopic: "t.dlq",
    ordering: "none",
    maxInFlight: 100_000,
    push: null,
    ...overrides,
  };
}

async function prepared(dir: string, overrides: Partial<SubscriptionConfig> = {}) {
  const engine = await openSqliteEngine({ dir });
  for (const name of ["t", "t.dlq"])
    await engine.log.putTopic({ name, retention: {}, dedupeWindowMs: 0, maxEventBytes: 1e6 });
  await engine.cursors.putSubscription(subscription(overrides));
  return engine;
}

/** The store file read-only, as someone with the sqlite3 CLI would see it. */
function inspect<T>(dir: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(dir, "switchyard.db"), { readOnly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

function rowCount(dir: string): number {
  return inspect(dir, (db) => Number(db.prepare("SELECT count(*) AS n FROM deliveries").get()?.n));
}

function savedHeld(dir: string): { floor: number; held: number[] } {
  return inspect(dir, (db) => {
    const row = db.prepare("SELECT ack_floor, held FROM subscriptions WHERE name = 's'").get();
    const floor = Number(row?.ack_floor);
    const held = row?.held instanceof Uint8Array ? decodeHeld(row.held, floor) : [];
    return { floor, held };
  });
}

/** What SIGKILL leaves: the files as they are now, the lock naming a dead process. */
function crashImage(from: string): string {
  const to = join(tempDir(), "image");
  mkdirSync(to);
  for (const file of readdirSync(from))
    if (file !== LOCK_DB_FILE) copyFileSync(join(from, file), join(to, file));
  const pid = spawnSync(process.execPath, ["-e", ""]).pid;
  if (existsSync(join(to, LOCK_PID_FILE))) writeFileSync(join(to, LOCK_PID_FILE), String(pid));
  return to;
}

const offsets = (ds: readonly Delivery[]) => ds.map((d) => d.record.offset);

async function lease(engine: Engine, max: number): Promise<readonly Delivery[]> {
  return engine.cursors.lease("s", { max, waitMs: 0 });
}

describe("first leases held in memory", () => {
  it("write no delivery row on lease and ack, and save what they hold with the cursor", async () => {
    const dir = tempDir();
    const engine = await prepared(dir);
    await engine.log.append("t", events(6));
    const leased = await lease(engine, 6);
    expect(offsets(leased)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rowCount(dir)).toBe(0);
    expect(savedHeld(dir)).toEqual({ floor: 1, held: [1, 2, 3, 4, 5, 6] });
    const acked = [leased[0], leased[2], leased[3]].map((d) => d?.ackId ?? "");
    expect((await engine.cursors.ack("s", acked)).map((r) => r.status)).toEqual(["ok", "ok", "ok"]);
    expect(rowCount(dir)).toBe(0);
    expect(savedHeld(dir)).toEqual({ floor: 2, held: [2, 5, 6] });
    const stats = await engine.cursors.stats("s");
    expect([stats.inFlight, stats.lag, stats.acked]).toEqual([3, 3, 3]);
    // Acking the same lease twice: the second finds nothing outstanding.
    expect((await engine.cursors.ack("s", [acked[0] ?? ""]))[0]?.status).not.toBe("ok");
    await engine.cursors.ack(
      "s",
      [leased[1], leased[4], leased[5]].map((d) => d?.ackId ?? ""),
    );
    expect(savedHeld(dir)).toEqual({ floor: 7, held: [] });
    await engine.close();
  });

  it("materialize as the row a lease used to write when anything but an ack happens", async () => {
    const dir = tempDir();
    const engine = await prepared(dir);
    await engine.log.append("t", events(3));
    const [a, b, c] = await lease(engine, 3);
    await engine.cursors.extend("s", [a?.ackId ?? ""], 120_000);
    await engine.cursors.nack("s", [b?.ackId ?? ""], 60_000);
    const rows = inspect(dir, (db) =>
      db.prepare("SELECT event_offset, state, attempt FROM deliveries ORDER BY 1").all(),
    );
    expect(rows).toEqual([
      { event_offset: 1, state: "leased", attempt: 1 },
      { event_offset: 2, state: "waiting", attempt: 1 },
    ]);
    expect(savedHeld(dir)).toEqual({ floor: 3, held: [3] });
    // The materialized lease still settles under its ackId.
    expect(
      (await engine.cursors.ack("s", [a?.ackId ?? "", c?.ackId ?? ""])).map((r) => r.status),
    ).toEqual(["ok", "ok"]);
    expect(rowCount(dir)).toBe(1);
    await engine.close();
  });

  it("after a crash, take exactly the held offsets as leased, due an ack timeout later", async () => {
    const dir = tempDir();
    const engine = await prepared(dir, { ackTimeoutMs: 400 });
    await engine.log.append("t", events(8));
    const leased = await lease(engine, 8);
    // Acked: 1, 3, 4 and 8, so what is held is three runs: 2, 5-7.
    const acked = [0, 2, 3, 7].map((i) => leased[i]?.ackId ?? "");
    await engine.cursors.ack("s", acked);
    const image = crashImage(dir);
    await engine.close();
    const openedAt = Date.now();
    const after = await openSqliteEngine({ dir: image });
    try {
      expect(await lease(after, 10)).toEqual([]);
      expect((await after.cursors.ack("s", [leased[1]?.ackId ?? ""]))[0]?.status).toBe("expired");
      const again: Delivery[] = [];
      while (again.length < 4 && Date.now() - openedAt < 5_000) {
        again.push(...(await after.cursors.lease("s", { max: 10, waitMs: 1_000 })));
      }
      expect(Date.now() - openedAt).toBeGreaterThanOrEqual(400);
      expect(offsets(again)).toEqual([2, 5, 6, 7]);
      expect(again.map((d) => d.attempt)).toEqual([2, 2, 2, 2]);
    } finally {
      await after.close();
    }
  });

  it("after a clean close, are rows with their lease numbers: old ackIds still settle", async () => {
    const dir = tempDir();
    const engine = await prepared(dir);
    await engine.log.append("t", events(2));
    const leased = await lease(engine, 2);
    await engine.close();
    expect(rowCount(dir)).toBe(2);
    expect(savedHeld(dir)).toEqual({ floor: 3, held: [] });
    const after = await openSqliteEngine({ dir });
    try {
      const results = await after.cursors.ack(
        "s",
        leased.map((d) => d.ackId),
      );
      expect(results.map((r) => r.status)).toEqual(["ok", "ok"]);
      expect(rowCount(dir)).toBe(0);
    } finally {
      await after.close();
    }
  });

  it(`keep the floor within ${MAX_SPREAD} offsets of the position`, async () => {
    const dir = tempDir();
    const engine = await prepared(dir);
    const total = MAX_SPREAD + 500;
    for (let from = 0; from < total; from += 2_000)
      await engine.log.append("t", events(Math.min(2_000, total - from), from));
    const [stuck] = await lease(engine, 1);
    expect(stuck?.record.offset).toBe(1);
    for (;;) {
      const batch = await lease(engine, 1_000);
      if (batch.length === 0) break;
      await engine.cursors.ack(
        "s",
        batch.map((d) => d.ackId),
      );
    }
    expect(rowCount(dir)).toBe(1);
    expect(savedHeld(dir)).toEqual({ floor: total + 1, held: [] });
    expect((await engine.cursors.ack("s", [stuck?.ackId ?? ""]))[0]?.status).toBe("ok");
    await engine.close();
  });

  it("leave nothing behind when their job or its commit is rolled back", async () => {
    const dir = tempDir();
    const db = new Db({ path: join(dir, "switchyard.db"), fsync: "always" });
    migrate(db);
    const writer = new GroupCommit(db, systemClock, new Map());
    const lease = { leaseNo: 1, dueAt: Date.now() + 60_000, key: null, appendedAt: 0 };
    const failing = writer.submit(1, (tx) => {
      addPending(tx, 7, 1, lease);
      addPending(tx, 7, 2, lease);
      throw new Error("boom");
    });
    const kept = writer.submit(1, (tx) => addPending(tx, 7, 3, lease));
    await expect(failing).rejects.toThrow();
    await kept;
    expect(writer.leases.peek(7)?.offsets()).toEqual([3]);
    // A whole commit that fails takes back the jobs that had succeeded in it too.
    const done = writer.submit(1, (tx) => addPending(tx, 7, 4, lease));
    const fatal = writer.submit(1, (tx) => {
      tx.db.exec("ROLLBACK"); // as SQLite does on a full disk
      throw new Error("disk full");
    });
    await expect(done).rejects.toThrow();
    await expect(fatal).rejects.toThrow();
    expect(writer.leases.peek(7)?.offsets()).toEqual([3]);
    await writer.close();
    db.close();
  });
});
