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

  it("commits relaxed jobs first, apart and unsynced; the durable ones of the tick after them, fsync'd", async () => {
    const before = writer.stats;
    const synchronous: string[] = [];
    const order: string[] = [];
    const probe = (name: string) => () => {
      synchronous.push(String(db.value("PRAGMA synchronous")));
      order.push(name);
    };
    await Promise.all([
      writer.submit(1, probe("durable-1")),
      writer.submit(1, probe("relaxed-1"), { durable: false }),
      writer.submit(1, probe("durable-2")),
      writer.submit(1, probe("relaxed-2"), { durable: false }),
    ]);
    expect(order).toEqual(["relaxed-1", "relaxed-2", "durable-1", "durable-2"]);
    // PRAGMA synchronous: 1 = NORMAL (no fsync at commit), 2 = FULL.
    expect(synchronous).toEqual(["1", "1", "2", "2"]);
    expect(writer.stats.commits - before.commits).toBe(2);
    expect(writer.stats.unsynced - before.unsynced).toBe(1);
    await writer.submit(1, probe("durable-3"));
    expect(synchronous.at(-1)).toBe("2");
  });

  it("answers a relaxed job before the fsync'd commit of the durable jobs queued beside it runs", async () => {
    const events: string[] = [];
    const durable = writer.submit(1, () => void events.push("durable ran"));
    const relaxed = writer
      .submit(1, () => void events.push("relaxed ran"), { durable: false })
      .then(() => void events.push("relaxed answered"));
    await Promise.all([durable, relaxed]);
    expect(events).toEqual(["relaxed ran", "relaxed answered", "durable ran"]);
  });

  it("holds durable jobs back for one unsynced commit at most while relaxed jobs keep coming", async () => {
    const ran: string[] = [];
    let durableDone = false;
    const durable = writer
      .submit(1, () => void ran.push("durable"))
      .then(() => {
        durableDone = true;
      });
    // A relaxed job in every flush, as a busy subscription's leases would be.
    for (let i = 0; i < 5 && !durableDone; i++)
      await writer.submit(1, () => void ran.push(`relaxed-${i}`), { durable: false });
    await durable;
    // Flush 1: relaxed-0 alone (durable deferred); flush 2: relaxed-1, then durable.
    expect(ran.slice(0, 3)).toEqual(["relaxed-0", "relaxed-1", "durable"]);
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
