import { describe, expect, it } from "vitest";
import type { Appended, Engine, LogRecord, NewEvent } from "../engine.js";
import { eventOf, newEvents, topicConfig, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, readAll } from "./probes.js";
import { createTopic, useEngine } from "./scope.js";

const BIG_BATCH = 2_000;

/** Every stored record is one whole event of `batch`, stored once. */
function expectWholeEventsOf(records: readonly LogRecord[], batch: readonly NewEvent[]): void {
  const bodies = new Map(batch.map((e) => [e.id, e.body]));
  const ids = records.map((r) => eventOf(r).id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const record of records) expect(record.body).toBe(bodies.get(eventOf(record).id));
}

function settledFlag(pending: Promise<readonly Appended[]>): () => boolean {
  let settled = false;
  pending.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return () => settled;
}

async function openWithTopic(harness: EngineHarness): Promise<{ engine: Engine; topic: string }> {
  const engine = await harness.open();
  const topic = uniqueName();
  await engine.log.putTopic(topicConfig(topic));
  return { engine, topic };
}

export function batchTests(harness: EngineHarness): void {
  describe("batch append", () => {
    const engine = useEngine(harness);

    it("rejects a batch to an unknown topic with topic_not_found and stores nothing", async () => {
      const topic = uniqueName();
      if (engine().capabilities.atomicBatch) {
        await expectCode(engine().log.append(topic, newEvents(3)), "topic_not_found");
      } else {
        // Per-event answers are allowed, but every one of them must be the error.
        const outcome = await engine()
          .log.append(topic, newEvents(3))
          .catch((error: unknown) => [{ error }]);
        for (const r of outcome) expect(r).toMatchObject({ error: { code: "topic_not_found" } });
      }
      expect(await engine().log.getTopic(topic)).toBeNull();
      await engine().log.putTopic(topicConfig(topic));
      expect((await engine().log.stats(topic)).events).toBe(0);
    });

    it("answers one result per event, in input order, each readable as that event", async () => {
      const topic = await createTopic(engine());
      const batch = newEvents(20);
      const results = await engine().log.append(topic, batch);
      expect(results).toHaveLength(batch.length);
      const records = await readAll(engine(), topic);
      const byOffset = new Map(records.map((r) => [r.offset, r]));
      results.forEach((result, i) => {
        if (engine().capabilities.atomicBatch) expect(result).not.toHaveProperty("error");
        if ("offset" in result) expect(byOffset.get(result.offset)?.body).toBe(batch[i]?.body);
      });
      expectWholeEventsOf(records, batch);
      const reported = results.filter((r) => "offset" in r).length;
      expect(records).toHaveLength(reported);
    });

    it("never shows a reader part of a batch", async () => {
      const topic = await createTopic(engine());
      const size = 100;
      const appends = Promise.all(
        Array.from({ length: 10 }, () => engine().log.append(topic, newEvents(size))),
      );
      let done = false;
      void appends.finally(() => {
        done = true;
      });
      const seen: number[] = [];
      while (!done) {
        seen.push((await engine().log.stats(topic)).events);
        seen.push((await readAll(engine(), topic)).length);
        // Yield to timers and I/O, so an engine that commits on a later tick gets to run.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await appends;
      if (engine().capabilities.atomicBatch)
        for (const n of seen) expect(n % size, `saw ${n} events`).toBe(0);
      expect(await readAll(engine(), topic)).toHaveLength(10 * size);
    });

    it("commits a batch that was in flight when close() was called", async () => {
      const { engine: first, topic } = await openWithTopic(harness);
      const batch = newEvents(BIG_BATCH);
      const pending = first.log.append(topic, batch);
      const reopened = await harness.reopen(first, "close");
      try {
        expect(await pending).toHaveLength(BIG_BATCH);
        const records = await readAll(reopened, topic);
        expect(records).toHaveLength(BIG_BATCH);
        expectWholeEventsOf(records, batch);
      } finally {
        await reopened.close();
      }
    });

    it("stores a batch cut off by a crash whole or not at all", async () => {
      const { engine: first, topic } = await openWithTopic(harness);
      const batch = newEvents(BIG_BATCH);
      const pending = first.log.append(topic, batch);
      const settled = settledFlag(pending);
      const reopened = await harness.reopen(first, "kill");
      const answeredBeforeCrash = settled();
      try {
        const records = await readAll(reopened, topic);
        expectWholeEventsOf(records, batch);
        if (answeredBeforeCrash && (await pending.then(() => true).catch(() => false)))
          expect(records).toHaveLength(BIG_BATCH);
        if (reopened.capabilities.atomicBatch) expect([0, BIG_BATCH]).toContain(records.length);
      } finally {
        await reopened.close();
      }
    });
  });
}
