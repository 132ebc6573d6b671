/**
 * Jobs of one commit share the topic rows earlier jobs loaded (job-tx.ts): what each job sees
 * must still be exactly the committed state its savepoint started from.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TopicConfig } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
import type { NewEvent } from "../engine.js";
import { appendJob } from "./append.js";
import { Db } from "./database.js";
import { GroupCommit } from "./group-commit.js";
import { migrate } from "./schema.js";
import { loadTopic } from "./topic-state.js";
import { deleteTopicJob, putTopicJob } from "./topics.js";

const topic = (maxEventBytes: number): TopicConfig => ({
  name: "t",
  retention: {},
  dedupeWindowMs: 0,
  maxEventBytes,
});

function event(id: string): NewEvent {
  return { id, source: "/test", key: null, body: JSON.stringify({ id, source: "/test" }) };
}

describe("topic rows shared by the jobs of one commit", () => {
  let dir: string;
  let db: Db;
  let writer: GroupCommit;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sy-jobtx-"));
    db = new Db({ path: join(dir, "switchyard.db"), fsync: "interval" });
    migrate(db);
    writer = new GroupCommit(db, { now: () => 1_000 }, new Map());
    await writer.submit(1, (tx) => putTopicJob(tx, topic(1_000)));
  });

  afterEach(async () => {
    await writer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const append = (id: string) =>
    writer.submit(1, (tx) => appendJob(tx, "t", [event(id)], () => {}));

  it("numbers appends of one commit in order around a job that failed after appending", async () => {
    const before = writer.stats.commits;
    const results = Promise.allSettled([
      append("a"),
      writer.submit(1, (tx) => {
        appendJob(tx, "t", [event("x"), event("y")], () => {});
        throw new Error("fails after appending");
      }),
      append("b"),
      append("c"),
    ]);
    const [a, failed, b, c] = await results;
    expect(writer.stats.commits - before).toBe(1);
    expect(failed?.status).toBe("rejected");
    expect([a, b, c].map((r) => (r?.status === "fulfilled" ? r.value : r))).toEqual([
      [{ offset: 1, duplicate: false }],
      [{ offset: 2, duplicate: false }],
      [{ offset: 3, duplicate: false }],
    ]);
    const state = loadTopic(db, "t");
    expect({ last: state?.lastOffset, events: state?.eventCount }).toEqual({ last: 3, events: 3 });
    expect(db.value("SELECT count(*) FROM events")).toBe(3);
  });

  it("a config change or a delete earlier in the commit is what the later jobs see", async () => {
    const seen: number[] = [];
    const [, , , afterDelete] = await Promise.allSettled([
      append("a"),
      writer.submit(1, (tx) => putTopicJob(tx, topic(2_000))),
      writer.submit(1, (tx) => {
        seen.push(tx.topic("t")?.config.maxEventBytes ?? 0);
        return appendJob(tx, "t", [event("b")], () => {});
      }),
      (async () => {
        await Promise.resolve();
        return writer.submit(1, (tx) => {
          deleteTopicJob(tx, "t");
          return appendJob(tx, "t", [event("c")], () => {});
        });
      })(),
    ]);
    expect(seen).toEqual([2_000]);
    expect(afterDelete).toMatchObject({ status: "rejected", reason: { code: "topic_not_found" } });
    // The failed job's delete was rolled back with it: the topic and its two events remain.
    expect(loadTopic(db, "t")?.lastOffset).toBe(2);
    expect(await append("d")).toEqual([{ offset: 3, duplicate: false }]);
  });

  describe("checks-first jobs (no savepoint, counters saved once per commit)", () => {
    const appendFirst = (id: string, name = "t") =>
      writer.submit(1, (tx) => appendJob(tx, name, [event(id)], () => {}), {
        checksFirst: true,
      });

    /** Counts the UPDATEs of topic rows from now on. */
    const countRowUpdates = () => {
      db.exec(`CREATE TABLE row_updates (n INTEGER);
        CREATE TRIGGER count_row_updates AFTER UPDATE ON topics
        BEGIN INSERT INTO row_updates VALUES (1); END`);
      return () => db.value("SELECT count(*) FROM row_updates");
    };

    it("64 appends of one commit write the topic's counters once", async () => {
      const updates = countRowUpdates();
      const before = writer.stats.commits;
      const results = await Promise.all(Array.from({ length: 64 }, (_, i) => appendFirst(`e${i}`)));
      expect(writer.stats.commits - before).toBe(1);
      expect(results).toEqual(
        Array.from({ length: 64 }, (_, i) => [{ offset: i + 1, duplicate: false }]),
      );
      expect(updates()).toBe(1);
      const state = loadTopic(db, "t");
      expect({ last: state?.lastOffset, events: state?.eventCount }).toEqual({
        last: 64,
        events: 64,
      });
    });

    it("a failing check fails its job alone; a job with a savepoint reads the row as the appends before it left it", async () => {
      const seen: (number | undefined)[] = [];
      const before = writer.stats.commits;
      const [a, unknown, direct, failed, b] = await Promise.allSettled([
        appendFirst("a"),
        appendFirst("u", "missing"),
        writer.submit(1, (tx) => seen.push(loadTopic(tx.db, "t")?.lastOffset)),
        writer.submit(1, (tx) => {
          appendJob(tx, "t", [event("x"), event("y")], () => {});
          throw new SwitchyardError("internal", "fails after appending");
        }),
        appendFirst("b"),
      ]);
      expect(writer.stats.commits - before).toBe(1);
      expect(unknown).toMatchObject({ status: "rejected", reason: { code: "topic_not_found" } });
      expect(direct.status).toBe("fulfilled");
      expect(failed.status).toBe("rejected");
      expect(seen).toEqual([1]);
      expect([a, b].map((r) => (r.status === "fulfilled" ? r.value : r))).toEqual([
        [{ offset: 1, duplicate: false }],
        [{ offset: 2, duplicate: false }],
      ]);
      const state = loadTopic(db, "t");
      expect({ last: state?.lastOffset, events: state?.eventCount }).toEqual({
        last: 2,
        events: 2,
      });
      expect(db.value("SELECT count(*) FROM events")).toBe(2);
    });

    it("one that fails after writing, not by its checks, fails the whole commit and stores nothing of it", async () => {
      const results = await Promise.allSettled([
        appendFirst("a"),
        writer.submit(
          1,
          (tx) => {
            appendJob(tx, "t", [event("x")], () => {});
            throw new Error("a write refused half-way");
          },
          { checksFirst: true },
        ),
        appendFirst("b"),
      ]);
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
      expect(db.value("SELECT count(*) FROM events")).toBe(0);
      expect(loadTopic(db, "t")?.lastOffset).toBe(0);
      expect(await appendFirst("c")).toEqual([{ offset: 1, duplicate: false }]);
    });
  });
});
