import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { toSwitchyardError } from "./errors.js";

// Real SQLite errors, made without a full disk: max_page_count gives SQLITE_FULL, a read-only
// connection SQLITE_READONLY.
describe("SQLite errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-sqlite-errors-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function failure(run: (db: DatabaseSync) => void, options = {}): unknown {
    const db = new DatabaseSync(join(dir, "x.db"), options);
    try {
      run(db);
    } catch (error) {
      return error;
    } finally {
      db.close();
    }
    throw new Error("expected SQLite to fail");
  }

  it("'database or disk is full' is storage_full", () => {
    const error = failure((db) => {
      db.exec("CREATE TABLE IF NOT EXISTS t (v BLOB)");
      db.exec(`PRAGMA max_page_count = ${db.prepare("PRAGMA page_count").get()?.page_count}`);
      db.prepare("INSERT INTO t VALUES (?)").run(Buffer.alloc(100_000));
    });
    const mapped = toSwitchyardError(error, "appending");
    expect(mapped.code).toBe("storage_full");
    expect(mapped.message).toMatch(/disk is full.*nothing was written/);
  });

  it("a read-only store is engine_unavailable and says so", () => {
    failure((db) => db.exec("CREATE TABLE IF NOT EXISTS t (v BLOB); SELECT x FROM missing"));
    const error = failure((db) => db.exec("INSERT INTO t VALUES (1)"), { readOnly: true });
    const mapped = toSwitchyardError(error, "appending");
    expect(mapped.code).toBe("engine_unavailable");
    expect(mapped.message).toMatch(/readonly.*may be read-only/);
  });
});
