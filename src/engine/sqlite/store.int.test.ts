import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../core/clock.js";
import { SUBSCRIPTION_DEFAULTS } from "../../core/config.js";
import { createEngine } from "../create-engine.js";
import type { Engine, NewEvent } from "../engine.js";
import { openSqliteEngine } from "./index.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sy-store-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function events(count: number, prefix: string, bytes = 200): NewEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${i}`;
    const body = JSON.stringify({
      specversion: "1.0",
      id,
      source: "/s",
      type: "t",
      data: "x".repeat(bytes),
    });
    return { id, source: "/s", key: null, body };
  });
}

async function withTopic(engine: Engine, name: string, retention = {}): Promise<void> {
  await engine.log.putTopic({ name, retention, dedupeWindowMs: 0, maxEventBytes: 1_000_000 });
}

/** Opens the store file read-only, as a user with the sqlite3 CLI would. */
function inspect<T>(dir: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(dir, "switchyard.db"), { readOnly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

describe("sqlite store", () => {
  it("is a WAL-mode file with incremental auto-vacuum, readable through the event_log view", async () => {
    const dir = tempDir();
    const engine = await createEngine({ kind: "sqlite", dataDir: dir });
    expect([engine.name, engine.capabilities]).toEqual(["sqlite", { atomicBatch: true }]);
    await withTopic(engine, "orders");
    await engine.log.append("orders", events(2, "o"));
    const seen = inspect(dir, (db) => ({
      journal: db.prepare("PRAGMA journal_mode").get(),
      vacuum: db.prepare("PRAGMA auto_vacuum").get(),
      rows: db.prepare("SELECT topic, offset FROM event_log ORDER BY offset").all(),
    }));
    expect(seen).toEqual({
      journal: { journal_mode: "wal" },
      vacuum: { auto_vacuum: 2 },
      rows: [
        { topic: "orders", offset: 1 },
        { topic: "orders", offset: 2 },
      ],
    });
    await engine.close();
  });

  it("opens a store whose pid file names a live process that holds no lock (stale after a crash)", async () => {
    const dir = tempDir();
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      // A crashed owner's pid, reused by an unrelated live process: only the kernel lock counts.
      writeFileSync(join(dir, "switchyard.lock"), String(other.pid));
      const engine = await openSqliteEngine({ dir });
      expect(readFileSync(join(dir, "switchyard.lock"), "utf8")).toBe(String(process.pid));
      await engine.close();
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("refuses to open a store twice in one process until the first engine closes", async () => {
    const dir = tempDir();
    const first = await openSqliteEngine({ dir });
    await expect(openSqliteEngine({ dir })).rejects.toMatchObject({ code: "engine_unavailable" });
    await first.close();
    const second = await openSqliteEngine({ dir });
    await second.close();
  });

  it("rejects every call after close with engine_unavailable, and closes idempotently", async () => {
    const engine = await openSqliteEngine({ dir: tempDir() });
    await withTopic(engine, "t");
    await Promise.all([engine.close(), engine.close()]);
    await expect(engine.log.append("t", events(1, "a"))).rejects.toMatchObject({
      code: "engine_unavailable",
    });
    await expect(engine.log.read("t", { offset: 1 }, 10)).rejects.toMatchObject({
      code: "engine_unavailable",
    });
    await expect(engine.cursors.lease("s", { max: 1, waitMs: 0 })).rejects.toMatchObject({
      code: "engine_unavailable",
    });
    await expect(engine.ready()).rejects.toMatchObject({ code: "engine_unavailable" });
  });

  it("keeps appended_at from going backwards when the clock does, so time reads stay ordered", async () => {
    let now = 10_000;
    const clock: Clock = { ...systemClock, now: () => now };
    const engine = await openSqliteEngine({ dir: tempDir(), clock });
    await withTopic(engine, "t");
    await engine.log.append("t", events(1, "a"));
    now = 5_000;
    await engine.log.append("t", events(1, "b"));
    now = 20_000;
    await engine.log.append("t", events(1, "c"));
    const page = await engine.log.read("t", { offset: 1 }, 10);
    expect(page.records.map((r) => r.appendedAt)).toEqual([10_000, 10_000, 20_000]);
    const fromTime = await engine.log.read("t", { time: 10_001 }, 10);
    expect(fromTime.records.map((r) => r.offset)).toEqual([3]);
    expect((await engine.log.read("t", { time: 30_000 }, 10)).next).toBe(4);
    await engine.close();
  });

  it("gives disk space back after retention removes events", async () => {
    const dir = tempDir();
    const engine = await openSqliteEngine({ dir, retentionIntervalMs: 0 });
    await withTopic(engine, "big", { maxEvents: 10 });
    for (let i = 0; i < 10; i++) await engine.log.append("big", events(2_000, `b${i}`, 1_000));
    const pages = () => inspect(dir, (db) => db.prepare("PRAGMA page_count").get()?.page_count);
    const before = Number(pages());
    const result = await engine.log.enforceRetention();
    expect(result.deletedEvents).toBe(19_990);
    expect(Number(pages())).toBeLessThan(before / 4);
    expect(await engine.log.stats("big")).toMatchObject({ events: 10, firstOffset: 19_991 });
    await engine.close();
  });

  it("deletes a dropped topic's events in the background; a re-created topic starts empty", async () => {
    const dir = tempDir();
    const engine = await openSqliteEngine({ dir, retentionIntervalMs: 0 });
    await withTopic(engine, "gone");
    await engine.log.append("gone", events(12_000, "g"));
    expect(await engine.log.deleteTopic("gone")).toBe(true);
    await withTopic(engine, "gone");
    expect(await engine.log.stats("gone")).toEqual({
      events: 0,
      bytes: 0,
      firstOffset: 1,
      lastOffset: 0,
    });
    await engine.log.enforceRetention();
    const left = inspect(dir, (db) => db.prepare("SELECT count(*) AS n FROM events").get());
    expect(left).toEqual({ n: 0 });
    expect(statSync(join(dir, "switchyard.db")).size).toBeGreaterThan(0);
    await engine.close();
  });

  it("counts topic bytes as the UTF-8 length of each body", async () => {
    const engine = await openSqliteEngine({ dir: tempDir() });
    await withTopic(engine, "t");
    const body = JSON.stringify({ specversion: "1.0", id: "é", source: "/s", type: "t" });
    await engine.log.append("t", [{ id: "é", source: "/s", key: null, body }]);
    expect((await engine.log.stats("t")).bytes).toBe(Buffer.byteLength(body));
    await engine.close();
  });

  it("answers every query docs/storage.md shows, on a read-only connection", async () => {
    const dir = tempDir();
    const engine = await openSqliteEngine({ dir });
    await withTopic(engine, "orders");
    await withTopic(engine, "orders.billing.dlq");
    await engine.cursors.putSubscription({
      name: "billing",
      topic: "orders",
      filter: null,
      start: "earliest",
      ackTimeoutMs: 30_000,
      maxAttempts: 10,
      backoff: { ...SUBSCRIPTION_DEFAULTS.backoff },
      deadLetterTopic: "orders.billing.dlq",
      ordering: "none",
      maxInFlight: 1000,
      push: null,
    });
    await engine.log.append("orders", events(50, "o"));
    const [first, second] = await engine.cursors.lease("billing", { max: 2, waitMs: 0 });
    await engine.cursors.reject("billing", first ? [first.ackId] : [], "bad data");
    // A first lease is a row only once something other than its ack happens to it.
    await engine.cursors.nack("billing", second ? [second.ackId] : [], 60_000);
    const doc = readFileSync(resolve(import.meta.dirname, "../../../docs/storage.md"), "utf8");
    const block = /```sql\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
    const statements = block
      .split("\n")
      .filter((line) => !line.startsWith("."))
      .join("\n")
      .split(";")
      .map((sql) => sql.trim())
      .filter((sql) => sql.replace(/--.*$/gm, "").trim() !== "");
    expect(statements.length).toBeGreaterThanOrEqual(6);
    const answers = inspect(dir, (db) => statements.map((sql) => db.prepare(sql).all()));
    expect(answers.map((rows) => rows.length)).toEqual([2, 10, 1, 1, 1, 1]);
    expect(answers[1]?.[0]).toMatchObject({ offset: 50 });
    expect(answers[2]?.[0]).toMatchObject({ offset: 42 });
    await engine.close();
  });
});
