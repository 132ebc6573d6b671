import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databasePerFile } from "../../test/support/postgres.js";
import { inbox } from "./inbox.js";

const event = (id: string) => ({ id, source: "orders-service" });

describe("inbox on PostgreSQL", () => {
  const database = databasePerFile();
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    await pool.query("CREATE TABLE stock (sku text PRIMARY KEY, reserved int NOT NULL)");
    await pool.query("INSERT INTO stock VALUES ('a', 0)");
  });
  afterAll(() => pool.end());
  const reserved = async () =>
    Number(
      (await pool.query<{ reserved: number }>("SELECT reserved FROM stock")).rows[0]?.reserved,
    );
  const reserve = (tx: pg.PoolClient) =>
    tx.query("UPDATE stock SET reserved = reserved + 1 WHERE sku = 'a'").then(() => "done");

  it("applies an event's writes once, however often it is delivered", async () => {
    const box = inbox(pool);
    expect(await box.handle(event("e1"), reserve)).toEqual({ duplicate: false, result: "done" });
    expect(await box.handle(event("e1"), reserve)).toEqual({ duplicate: true });
    expect(await box.handle({ id: "e1", source: "another-service" }, reserve)).toMatchObject({
      duplicate: false,
    });
    expect(await reserved()).toBe(2);
  });

  it("rolls back the mark with the handler's writes when the handler fails", async () => {
    const box = inbox(pool);
    const before = await reserved();
    await expect(
      box.handle(event("e2"), async (tx: pg.PoolClient) => {
        await reserve(tx);
        throw new Error("handler failed");
      }),
    ).rejects.toThrow("handler failed");
    expect(await reserved()).toBe(before);
    expect(await box.handle(event("e2"), reserve)).toMatchObject({ duplicate: false });
    expect(await reserved()).toBe(before + 1);
  });

  it("handles concurrent deliveries of one event once", async () => {
    const box = inbox(pool, { table: "inbox_concurrent" });
    const before = await reserved();
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        box.handle(event("e3"), async (tx: pg.PoolClient) => {
          await new Promise((done) => setTimeout(done, 50));
          return reserve(tx);
        }),
      ),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await reserved()).toBe(before + 1);
  });
});

describe("inbox on SQLite", () => {
  let dir: string;
  let db: DatabaseSync;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "switchyard-inbox-"));
    db = new DatabaseSync(join(dir, "app.db"));
    db.exec(
      "CREATE TABLE stock (sku TEXT PRIMARY KEY, reserved INTEGER NOT NULL); INSERT INTO stock VALUES ('a', 0)",
    );
  });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const reserved = () =>
    Number((db.prepare("SELECT reserved FROM stock").get() as { reserved: number }).reserved);

  it("applies an event's writes once, and none when the handler fails", async () => {
    const box = inbox(db);
    const reserve = (tx: DatabaseSync) => {
      tx.prepare("UPDATE stock SET reserved = reserved + 1").run();
    };
    expect(await box.handle(event("e1"), reserve)).toMatchObject({ duplicate: false });
    expect(await box.handle(event("e1"), reserve)).toEqual({ duplicate: true });
    await expect(
      box.handle(event("e2"), async (tx) => {
        reserve(tx);
        await new Promise((done) => setTimeout(done, 5));
        throw new Error("handler failed");
      }),
    ).rejects.toThrow("handler failed");
    expect(reserved()).toBe(1);
    // Interleaved async handlers on one connection run one transaction at a time.
    await Promise.all([
      box.handle(event("e2"), async (tx) => {
        await new Promise((done) => setTimeout(done, 20));
        reserve(tx);
      }),
      box.handle(event("e3"), reserve),
      box.handle(event("e3"), reserve),
    ]);
    expect(reserved()).toBe(3);
    const marks = db.prepare("SELECT id FROM inbox ORDER BY id").all() as { id: string }[];
    expect(marks.map((m) => m.id)).toEqual(["e1", "e2", "e3"]);
  });
});
