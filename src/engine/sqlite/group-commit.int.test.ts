import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../core/clock.js";
import { SwitchyardError } from "../../core/errors.js";
import { Db } from "./database.js";
import type { DedupeIndex } from "./dedupe-index.js";
import { GroupCommit, type WalSyncer } from "./group-commit.js";

describe("group commit", () => {
  let dir: string;
  let db: Db;
  let writer: GroupCommit;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sy-gc-"));
    db = new Db({ path: join(dir, "t.db"), fsync: "always" });
    db.exec("CREATE TABLE t (caller INTEGER NOT NULL, n INTEGER NOT NULL)");
    writer = new GroupCommit(db, systemClock, new Map<number, DedupeIndex>());
  });

  afterEach(async () => {
    await writer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (caller: number, rows: number) => () => {
    for (let n = 0; n < rows; n++) db.run("INSERT INTO t VALUES (?, ?)", caller, n);
    return caller;
  };

  it("runs every job queued in the same tick in one commit", async () => {
    const before = writer.stats.commits;
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => writer.submit(1, insert(i, 1))),
    );
    expect(results).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(writer.stats.commits - before).toBe(1);
    expect(db.value("SELECT count(*) FROM t")).toBe(64);
  });

  it("rolls back only the job that throws; the jobs sharing its commit succeed", async () => {
    const failing = writer.submit(1, () => {
      insert(99, 3)();
      throw new SwitchyardError("topic_not_found", "no such topic");
    });
    const others = [writer.submit(1, insert(1, 2)), writer.submit(1, insert(2, 2))];
    await expect(failing).rejects.toMatchObject({ code: "topic_not_found" });
    expect(await Promise.all(others)).toEqual([1, 2]);
    expect(db.all("SELECT DISTINCT caller FROM t ORDER BY caller")).toEqual([
      { caller: 1 },
      { caller: 2 },
    ]);
  });

  it("maps a native SQLite error of one job to engine_unavailable without failing the others", async () => {
    const failing = writer.submit(1, () => db.run("INSERT INTO missing_table VALUES (1)"));
    const ok = writer.submit(1, insert(7, 1));
    await expect(failing).rejects.toMatchObject({ code: "engine_unavailable" });
    expect(await ok).toBe(7);
  });

  it("runs a job's after-commit effects only when its work was committed", async () => {
    const effects: string[] = [];
    await Promise.allSettled([
      writer.submit(1, (tx) => tx.afterCommit(() => effects.push("kept"))),
      writer.submit(1, (tx) => {
        tx.afterCommit(() => effects.push("dropped"));
        throw new SwitchyardError("internal", "boom");
      }),
    ]);
    expect(effects).toEqual(["kept"]);
  });

  it("splits a burst of heavy jobs over several commits", async () => {
    const before = writer.stats.commits;
    await Promise.all(Array.from({ length: 4 }, (_, i) => writer.submit(15_000, insert(i, 1))));
    expect(writer.stats.commits - before).toBeGreaterThan(1);
  });

  it("finishes queued jobs on close and refuses new ones", async () => {
    const queued = writer.submit(1, insert(5, 1));
    const closing = writer.close();
    await expect(writer.submit(1, insert(6, 1))).rejects.toMatchObject({
      code: "engine_unavailable",
    });
    await closing;
    expect(await queued).toBe(5);
    expect(db.value("SELECT count(*) FROM t")).toBe(1);
  });
});

/** A WAL sync the test completes by hand, recording each call. */
class HeldSync implements WalSyncer {
  readonly calls: ((error: Error | null) => void)[] = [];
  sync(done: (error: Error | null) => void): void {
    this.calls.push(done);
  }
  async next(): Promise<(error: Error | null) => void> {
    await vi.waitFor(() => expect(this.calls.length).toBeGreaterThan(0));
    return this.calls.shift() as (error: Error | null) => void;
  }
}

describe("group commit with the WAL fsync'd off the event loop", () => {
  let dir: string;
  let db: Db;
  let sync: HeldSync;
  let writer: GroupCommit;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sy-gcs-"));
    db = new Db({ path: join(dir, "t.db"), fsync: "always", walSync: "writer" });
    db.exec("CREATE TABLE t (n INTEGER NOT NULL)");
    sync = new HeldSync();
    writer = new GroupCommit(db, systemClock, new Map<number, DedupeIndex>(), undefined, sync);
  });

  afterEach(async () => {
    for (const done of sync.calls.splice(0)) done(null);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (n: number) => () => db.run("INSERT INTO t VALUES (?)", n);

  it("settles a commit's jobs and runs its effects only once the fsync returned", async () => {
    const effects: string[] = [];
    let settled = false;
    const job = writer
      .submit(1, (tx) => {
        insert(1)();
        tx.afterCommit(() => effects.push("woken"));
        return "ok";
      })
      .then((value) => {
        settled = true;
        return value;
      });
    const done = await sync.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    expect(effects).toEqual([]);
    done(null);
    expect(await job).toBe("ok");
    expect(effects).toEqual(["woken"]);
  });

  it("starts no commit while one is being synced; the jobs queued meanwhile share the next", async () => {
    const first = writer.submit(1, insert(1));
    const firstSync = await sync.next();
    const later = [writer.submit(1, insert(2)), writer.submit(1, insert(3))];
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writer.stats.commits).toBe(1);
    expect(sync.calls).toHaveLength(0);
    firstSync(null);
    await first;
    (await sync.next())(null);
    await Promise.all(later);
    expect(writer.stats).toEqual({ commits: 2, jobs: 3 });
  });

  it("runs reads waiting for durability right after the sync, seeing that commit", async () => {
    const job = writer.submit(1, insert(7));
    const done = await sync.next();
    const read = writer.whenSynced(() => db.value("SELECT count(*) FROM t"));
    let readDone = false;
    void read.then(() => {
      readDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readDone).toBe(false);
    done(null);
    expect(await read).toBe(1);
    await job;
    // Nothing being synced: a read runs at once.
    expect(await writer.whenSynced(() => "now")).toBe("now");
  });

  it("answers engine_unavailable when the fsync fails, and acknowledges nothing after it", async () => {
    const job = writer.submit(1, insert(1));
    const done = await sync.next();
    const queued = writer.submit(1, insert(2));
    done(Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" }));
    await expect(job).rejects.toMatchObject({ code: "engine_unavailable" });
    await expect(queued).rejects.toMatchObject({ code: "engine_unavailable" });
    await expect(writer.submit(1, insert(3))).rejects.toThrow(
      /fsync of the store's write-ahead log failed/,
    );
    expect(sync.calls).toHaveLength(0);
  });

  it("close waits for the commit being synced", async () => {
    const job = writer.submit(1, insert(1));
    const done = await sync.next();
    let closed = false;
    const closing = writer.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    done(null);
    await closing;
    await job;
  });
});
