/**
 * Event keys are `topic_id << 42 | offset`, past 2^53 once topic ids reach 2048. A store that
 * has created that many topics (the fuzz run got there after about 300,000 inputs) must still
 * give every event its own offset, read ranges exactly and purge the right rows.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { createEngine } from "../create-engine.js";
import type { Engine, NewEvent } from "../engine.js";

const dirs: string[] = [];
const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function events(from: number, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `e-${from + i}`;
    const body = JSON.stringify({
      specversion: "1.0",
      id,
      source: "/s",
      type: "t",
      data: from + i,
    });
    return { id, source: "/s", key: null, body };
  });
}

async function open(dir: string): Promise<Engine> {
  const engine = await createEngine({ kind: "sqlite", dataDir: dir });
  engines.push(engine);
  return engine;
}

/** A store whose next topic id is `next`, as if `next - 1` topics had been created before. */
async function storeWithTopicIdsFrom(next: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "sy-topic-id-"));
  dirs.push(dir);
  const engine = await open(dir);
  await engine.log.putTopic({
    name: "first",
    retention: {},
    dedupeWindowMs: 0,
    maxEventBytes: 1e6,
  });
  await engine.close();
  engines.splice(engines.indexOf(engine), 1);
  const db = new DatabaseSync(join(dir, "switchyard.db"));
  db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'topics'").run(next - 1);
  db.close();
  return dir;
}

function correlated(from: number, count: number): NewEvent[] {
  return events(from, count).map((e) => {
    const body = JSON.stringify({ ...JSON.parse(e.body), correlationid: "c" });
    return { ...e, body };
  });
}

function dataOf(body: string): unknown {
  return (JSON.parse(body) as { data: unknown }).data;
}

describe("sqlite store with topic ids past 2^11", () => {
  for (const next of [2_048, 1_000_003, 2 ** 21 - 10]) {
    it(`appends, reads, dedupes and removes by exact offset at topic id ${next}`, async () => {
      const dir = await storeWithTopicIdsFrom(next);
      let engine = await open(dir);
      const config = { name: "orders", retention: {}, dedupeWindowMs: 60_000, maxEventBytes: 1e6 };
      await engine.log.putTopic(config);

      const appended = [];
      for (let from = 1; from <= 40; from += 8)
        appended.push(...(await engine.log.append("orders", events(from, 8))));
      expect(appended).toEqual(
        Array.from({ length: 40 }, (_, i) => ({ offset: i + 1, duplicate: false })),
      );

      const page = await engine.log.read("orders", { offset: 11 }, 5);
      expect(page.records.map((r) => [r.offset, dataOf(r.body)])).toEqual(
        [11, 12, 13, 14, 15].map((n) => [n, n]),
      );

      // The dedupe window is rebuilt from the events at open: a retry is still a duplicate.
      await engine.close();
      engines.splice(engines.indexOf(engine), 1);
      engine = await open(dir);
      const [retry] = await engine.log.append("orders", events(17, 1));
      expect(retry).toEqual({ offset: 17, duplicate: true });

      await engine.log.putTopic({ ...config, retention: { maxEvents: 10 } });
      await engine.log.enforceRetention();
      const stats = await engine.log.stats("orders");
      expect([stats.firstOffset, stats.lastOffset, stats.events]).toEqual([31, 40, 10]);
      const rest = await engine.log.read("orders", { offset: 1 }, 100);
      expect(rest.records.map((r) => dataOf(r.body))).toEqual(
        Array.from({ length: 10 }, (_, i) => 31 + i),
      );

      // A dropped topic's events are purged by key range, leaving its neighbours whole.
      await engine.log.putTopic({ ...config, name: "neighbour", retention: {} });
      await engine.log.append("neighbour", events(1, 3));
      expect(await engine.log.deleteTopic("orders")).toBe(true);
      await engine.log.enforceRetention();
      const neighbour = await engine.log.read("neighbour", { offset: 1 }, 10);
      expect(neighbour.records.map((r) => [r.offset, dataOf(r.body)])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
      const left = new DatabaseSync(join(dir, "switchyard.db"), { readOnly: true });
      const rows = left.prepare("SELECT topic, offset FROM event_log ORDER BY topic, offset").all();
      left.close();
      expect(rows.filter((r) => r.topic === "orders")).toEqual([]);
    });

    it(`indexes, backfills and trims flows by exact offset at topic id ${next}`, async () => {
      const engine = await open(await storeWithTopicIdsFrom(next));
      const base = { retention: {}, dedupeWindowMs: 60_000, maxEventBytes: 1e6 };
      await engine.log.putTopic({ ...base, name: "live", indexes: ["correlationid"] });
      for (let from = 1; from <= 8; from += 4) await engine.log.append("live", correlated(from, 4));
      const flow = async () =>
        (await engine.log.flow("c", 100)).records.map((r) => [r.topic, r.offset, dataOf(r.body)]);
      expect(await flow()).toEqual(Array.from({ length: 8 }, (_, i) => ["live", i + 1, i + 1]));

      await engine.log.putTopic({
        ...base,
        name: "live",
        indexes: ["correlationid"],
        retention: { maxEvents: 3 },
      });
      await engine.log.enforceRetention();
      expect(await flow()).toEqual([6, 7, 8].map((n) => ["live", n, n]));

      await engine.log.putTopic({ ...base, name: "late" });
      await engine.log.append("late", correlated(100, 5));
      await engine.log.putTopic({ ...base, name: "late", indexes: ["correlationid"] });
      await engine.log.enforceRetention(); // runs the backfill to its end
      expect((await engine.log.stats("late")).indexes?.correlationid?.state).toBe("ready");
      expect((await flow()).filter((r) => r[0] === "late")).toEqual(
        [1, 2, 3, 4, 5].map((n) => ["late", n, 99 + n]),
      );
    });
  }
});
