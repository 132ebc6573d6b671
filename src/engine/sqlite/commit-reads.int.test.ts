/**
 * The events the jobs of one commit share (commit-reads.ts): each read must answer exactly
 * what `readRange` would on the state the job sees, whatever earlier jobs of the commit did.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TopicConfig } from "../../core/config.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { NewEvent } from "../engine.js";
import { appendJob } from "./append.js";
import { Db } from "./database.js";
import { readRange } from "./events.js";
import { GroupCommit } from "./group-commit.js";
import type { JobTx } from "./job-tx.js";
import { retentionChunkJob } from "./retention.js";
import { migrate } from "./schema.js";
import { putTopicJob } from "./topics.js";

const topic = (maxEvents?: number): TopicConfig => ({
  name: "t",
  retention: maxEvents === undefined ? {} : { maxEvents },
  dedupeWindowMs: 0,
  maxEventBytes: 1_000,
});

function event(id: string): NewEvent {
  return { id, source: "/test", key: null, body: JSON.stringify({ id, source: "/test" }) };
}

const ids = (records: readonly LogRecord[]) =>
  records.map((r) => `${r.offset}:${(JSON.parse(r.body) as { id: string }).id}`);

describe("event reads shared by the jobs of one commit", () => {
  let dir: string;
  let db: Db;
  let writer: GroupCommit;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sy-reads-"));
    db = new Db({ path: join(dir, "switchyard.db"), fsync: "interval" });
    migrate(db);
    writer = new GroupCommit(db, { now: () => 1_000 }, new Map());
  });

  afterEach(async () => {
    await writer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function filled(config: TopicConfig, count: number): Promise<void> {
    await writer.submit(1, (tx) => putTopicJob(tx, config));
    const events = Array.from({ length: count }, (_, i) => event(`e${i + 1}`));
    await writer.submit(count, (tx) => appendJob(tx, "t", events, () => {}));
  }

  const read = (tx: JobTx, from: number, to: number, limit: number) => {
    const t = tx.topic("t");
    if (t === null) throw new Error("no topic");
    return tx.reads.range(tx.db, t.id, t.name, from, to, limit);
  };

  it("answers overlapping ranges as readRange does, with the same record objects", async () => {
    await filled(topic(), 10);
    const [first, second, third] = await Promise.all([
      writer.submit(1, (tx) => read(tx, 3, 6, 100)),
      writer.submit(1, (tx) => read(tx, 1, 10, 5)),
      writer.submit(1, (tx) => read(tx, 2, 10, 100)),
    ]);
    const id = db.value("SELECT topic_id FROM topics WHERE name = 't'");
    expect(ids(first ?? [])).toEqual(ids(readRange(db, id, "t", 3, 6, 100)));
    expect(ids(second ?? [])).toEqual(ids(readRange(db, id, "t", 1, 10, 5)));
    expect(ids(third ?? [])).toEqual(ids(readRange(db, id, "t", 2, 10, 100)));
    expect(second?.[3]).toBe(first?.[1]);
    expect(third?.slice(0, 4)).toEqual(second?.slice(1));
    expect(third?.[2]).toBe(first?.[1]);
  });

  it("never returns an event of a job rolled back after reading it", async () => {
    await filled(topic(), 2);
    let seen: LogRecord[] = [];
    const [failed, after] = await Promise.allSettled([
      writer.submit(1, (tx) => {
        appendJob(tx, "t", [event("gone")], () => {});
        seen = read(tx, 1, 10, 10);
        throw new Error("fails after reading what it appended");
      }),
      writer.submit(1, (tx) => {
        appendJob(tx, "t", [event("kept")], () => {});
        return read(tx, 1, 10, 10);
      }),
    ]);
    expect(failed.status).toBe("rejected");
    expect(ids(seen)).toEqual(["1:e1", "2:e2", "3:gone"]);
    expect(after.status === "fulfilled" ? ids(after.value) : after).toEqual([
      "1:e1",
      "2:e2",
      "3:kept",
    ]);
  });

  it("never returns an event retention deleted earlier in the commit", async () => {
    await filled(topic(2), 5);
    const [before, removed, after] = await Promise.all([
      writer.submit(1, (tx) => read(tx, 1, 5, 10)),
      writer.submit(1, (tx) => retentionChunkJob(tx, "t")),
      writer.submit(1, (tx) => read(tx, 1, 5, 10)),
    ]);
    expect(ids(before)).toEqual(["1:e1", "2:e2", "3:e3", "4:e4", "5:e5"]);
    expect(removed.events).toBe(3);
    expect(ids(after)).toEqual(["4:e4", "5:e5"]);
  });
});
