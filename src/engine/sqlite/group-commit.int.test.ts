import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../core/clock.js";
import { SwitchyardError } from "../../core/errors.js";
import { Db } from "./database.js";
import type { DedupeIndex } from "./dedupe-index.js";
import { GroupCommit } from "./group-commit.js";

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

  /** Runs in a job: records the job's name and the connection's PRAGMA synchronous. */
  const probing = () => {
    const order: string[] = [];
    const synchronous: string[] = [];
    const probe = (name: string) => () => {
      synchronous.push(String(db.value("PRAGMA synchronous")));
      order.push(name);
    };
    return { order, synchronous, probe };
  };

  it("commits a tick of nothing but relaxed jobs once, unsynced; the next durable commit fsyncs again", async () => {
    const before = writer.stats;
    const { synchronous, probe } = probing();
    await Promise.all([
      writer.submit(1, probe("relaxed-1"), { durable: false }),
      writer.submit(1, probe("relaxed-2"), { durable: false }),
    ]);
    // PRAGMA synchronous: 1 = NORMAL (no fsync at commit), 2 = FULL.
    expect(synchronous).toEqual(["1", "1"]);
    expect(writer.stats.commits - before.commits).toBe(1);
    expect(writer.stats.unsynced - before.unsynced).toBe(1);
    await writer.submit(1, probe("durable"));
    expect(synchronous.at(-1)).toBe("2");
    expect(writer.stats.unsynced - before.unsynced).toBe(1);
  });

  it("commits a tick of relaxed and durable jobs as one fsync'd commit, the relaxed jobs first", async () => {
    const before = writer.stats;
    const { order, synchronous, probe } = probing();
    await Promise.all([
      writer.submit(1, probe("durable-1")),
      writer.submit(1, probe("relaxed-1"), { durable: false }),
      writer.submit(1, probe("durable-2")),
      writer.submit(1, probe("relaxed-2"), { durable: false }),
    ]);
    expect(order).toEqual(["relaxed-1", "relaxed-2", "durable-1", "durable-2"]);
    expect(synchronous).toEqual(["2", "2", "2", "2"]);
    expect(writer.stats.commits - before.commits).toBe(1);
    expect(writer.stats.unsynced - before.unsynced).toBe(0);
  });

  it("under fsync interval, relaxed jobs share the tick's one commit", async () => {
    const relaxedDb = new Db({ path: join(dir, "interval.db"), fsync: "interval" });
    const interval = new GroupCommit(relaxedDb, systemClock, new Map(), undefined, "interval");
    try {
      await Promise.all([
        interval.submit(1, () => 1),
        interval.submit(1, () => 2, { durable: false }),
      ]);
      expect(interval.stats).toEqual({ commits: 1, jobs: 2, unsynced: 0 });
    } finally {
      await interval.close();
      relaxedDb.close();
    }
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
