import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Clock } from "../../core/clock.js";
import { ManualClock } from "../../testing/manual-clock.js";
import type { Engine, NewEvent } from "../engine.js";
import { appendJob } from "./append.js";
import { Db } from "./database.js";
import { type DedupeIndex, dedupeHash } from "./dedupe-index.js";
import { GroupCommit } from "./group-commit.js";
import { openSqliteEngine } from "./index.js";
import { migrate } from "./schema.js";
import { putTopicJob } from "./topics.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sy-dedupe-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function event(id: string, source = "/test"): NewEvent {
  return {
    id,
    source,
    key: null,
    body: JSON.stringify({ specversion: "1.0", id, source, type: "t" }),
  };
}

async function openWithTopic(dir: string, clock?: Clock, dedupeWindowMs = 60_000): Promise<Engine> {
  const engine = await openSqliteEngine({
    dir,
    retentionIntervalMs: 0,
    ...(clock ? { clock } : {}),
  });
  await engine.log.putTopic({ name: "t", retention: {}, dedupeWindowMs, maxEventBytes: 1_000_000 });
  return engine;
}

describe("sqlite dedupe", () => {
  it("keeps deduping after a restart: the window is rebuilt from the stored events", async () => {
    const dir = tempDir();
    const first = await openWithTopic(dir);
    await first.log.append("t", [event("a"), event("b")]);
    await first.close();
    const second = await openSqliteEngine({ dir, retentionIntervalMs: 0 });
    expect(await second.log.append("t", [event("b"), event("c")])).toEqual([
      { offset: 2, duplicate: true },
      { offset: 3, duplicate: false },
    ]);
    await second.close();
  });

  it("dedupes by source and id together", async () => {
    const engine = await openWithTopic(tempDir());
    expect(
      await engine.log.append("t", [event("a", "/x"), event("a", "/y"), event("a", "/x")]),
    ).toEqual([
      { offset: 1, duplicate: false },
      { offset: 2, duplicate: false },
      { offset: 1, duplicate: true },
    ]);
    await engine.close();
  });

  it("dedupes against the commit's other callers before it is durable", async () => {
    const engine = await openWithTopic(tempDir());
    const [one, two] = await Promise.all([
      engine.log.append("t", [event("same")]),
      engine.log.append("t", [event("same")]),
    ]);
    expect([one, two]).toEqual([
      [{ offset: 1, duplicate: false }],
      [{ offset: 1, duplicate: true }],
    ]);
    await engine.close();
  });

  it("forgets a failed caller's ids: a rolled-back append is not a duplicate source", async () => {
    const dir = tempDir();
    const db = new Db({ path: join(dir, "switchyard.db"), fsync: "always" });
    migrate(db);
    const writer = new GroupCommit(db, { now: () => 1_000 }, new Map());
    await writer.submit(1, (tx) =>
      putTopicJob(tx, { name: "t", retention: {}, dedupeWindowMs: 60_000, maxEventBytes: 1e6 }),
    );
    const failing = writer.submit(1, (tx) => {
      appendJob(tx, "t", [event("x")], () => {});
      throw new Error("fails after appending");
    });
    const later = writer.submit(1, (tx) => appendJob(tx, "t", [event("x")], () => {}));
    await expect(failing).rejects.toBeDefined();
    expect(await later).toEqual([{ offset: 1, duplicate: false }]);
    await writer.close();
    db.close();
  });

  it("verifies every hit against the stored event, so a hash collision never drops an event", async () => {
    const dir = tempDir();
    const db = new Db({ path: join(dir, "switchyard.db"), fsync: "always" });
    migrate(db);
    const indexes = new Map<number, DedupeIndex>();
    const writer = new GroupCommit(db, { now: () => 1_000 }, indexes);
    await writer.submit(1, (tx) =>
      putTopicJob(tx, { name: "t", retention: {}, dedupeWindowMs: 60_000, maxEventBytes: 1e6 }),
    );
    await writer.submit(1, (tx) => appendJob(tx, "t", [event("a")], () => {}));
    // Pretend "b" hashed like "a": the index now points "b" at a's offset.
    indexes.get(1)?.add(dedupeHash("/test", "b"), 1, 1_000);
    expect(await writer.submit(1, (tx) => appendJob(tx, "t", [event("b")], () => {}))).toEqual([
      { offset: 2, duplicate: false },
    ]);
    await writer.close();
    db.close();
  });

  it("appends a repeat again once the window has passed", async () => {
    const clock = new ManualClock({ start: 1_000_000 });
    const engine = await openWithTopic(tempDir(), clock, 10_000);
    await engine.log.append("t", [event("a")]);
    await clock.advance(9_999);
    expect(await engine.log.append("t", [event("a")])).toEqual([{ offset: 1, duplicate: true }]);
    await clock.advance(2);
    expect(await engine.log.append("t", [event("a")])).toEqual([{ offset: 2, duplicate: false }]);
    await engine.close();
  });

  it("does not dedupe when the window is 0", async () => {
    const engine = await openWithTopic(tempDir(), undefined, 0);
    expect(await engine.log.append("t", [event("a"), event("a")])).toEqual([
      { offset: 1, duplicate: false },
      { offset: 2, duplicate: false },
    ]);
    await engine.close();
  });
});
