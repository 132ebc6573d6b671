import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { LOCK_DB_FILE, LOCK_PID_FILE, lockStore } from "./store-lock.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sy-lock-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("lockStore (in one process)", () => {
  it("refuses a second lock on the same store, also through another path to it", () => {
    const dir = tempDir();
    const link = join(tempDir(), "link");
    symlinkSync(dir, link);
    const lock = lockStore(dir);
    for (const path of [dir, link])
      expect(() => lockStore(path)).toThrow(
        expect.objectContaining({
          code: "engine_unavailable",
          message: `the store in ${path} is already open in this process; close that engine first`,
        }),
      );
    lock.release();
  });

  it("holds a real SQLite exclusive lock: another connection cannot take it", () => {
    const dir = tempDir();
    const lock = lockStore(dir);
    const other = new DatabaseSync(join(dir, LOCK_DB_FILE), { timeout: 0 });
    try {
      expect(() => other.exec("BEGIN EXCLUSIVE")).toThrow(/database is locked/);
    } finally {
      other.close();
    }
    lock.release();
    const after = new DatabaseSync(join(dir, LOCK_DB_FILE), { timeout: 0 });
    after.exec("BEGIN EXCLUSIVE");
    after.close();
  });

  it("writes its pid while held, removes it on release, and can be taken again", () => {
    const dir = tempDir();
    const first = lockStore(dir);
    expect(readFileSync(join(dir, LOCK_PID_FILE), "utf8")).toBe(String(process.pid));
    first.release();
    first.release(); // idempotent
    expect(existsSync(join(dir, LOCK_PID_FILE))).toBe(false);
    // The lock database stays: deleting it could let two owners lock two different files.
    expect(existsSync(join(dir, LOCK_DB_FILE))).toBe(true);
    const second = lockStore(dir);
    expect(readFileSync(join(dir, LOCK_PID_FILE), "utf8")).toBe(String(process.pid));
    second.release();
  });

  it("leaves no journal file beside the lock database", () => {
    const dir = tempDir();
    const lock = lockStore(dir);
    expect(existsSync(join(dir, `${LOCK_DB_FILE}-journal`))).toBe(false);
    lock.release();
  });
});
