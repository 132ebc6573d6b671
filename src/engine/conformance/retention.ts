import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import type { Engine, TopicStats } from "../engine.js";
import { newEvents, topicConfig } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { leaseNow, offsetsOf, POSITIVE_MS, readAll } from "./probes.js";
import { createTopic, setup, useEngine } from "./scope.js";

const MAX_AGE_MS = 500;

/** Every event is the same size, so byte limits translate into event counts. */
function sameSizeEvents(count: number) {
  return newEvents(count, undefined, { data: { pad: "x".repeat(200) } });
}

function expectConsistent(stats: TopicStats): void {
  expect(stats.events).toBe(Math.max(0, stats.lastOffset - stats.firstOffset + 1));
  if (stats.events === 0) expect(stats.bytes).toBe(0);
  else expect(stats.bytes).toBeGreaterThan(0);
}

async function enforce(engine: Engine): Promise<void> {
  const result = await engine.log.enforceRetention();
  expect(result.deletedEvents).toBeGreaterThanOrEqual(0);
  expect(result.deletedBytes).toBeGreaterThanOrEqual(0);
  if (result.deletedEvents > 0) expect(result.deletedBytes).toBeGreaterThan(0);
}

export function retentionTests(harness: EngineHarness): void {
  describe("retention", () => {
    const engine = useEngine(harness);

    it("keeps the newest maxEvents; the first offset moves, offsets are never reused", async () => {
      const topic = await createTopic(engine(), { retention: { maxEvents: 3 } });
      await engine().log.append(topic, newEvents(10));
      await enforce(engine());
      const stats = await engine().log.stats(topic);
      expect(stats).toMatchObject({ events: 3, firstOffset: 8, lastOffset: 10 });
      expectConsistent(stats);
      expect(offsetsOf(await readAll(engine(), topic))).toEqual([8, 9, 10]);
      expect(await engine().log.append(topic, newEvents(1))).toEqual([
        { offset: 11, duplicate: false },
      ]);
    });

    it("starts a read below the first retained offset at the first retained one", async () => {
      const topic = await createTopic(engine(), { retention: { maxEvents: 2 } });
      await engine().log.append(topic, newEvents(5));
      await enforce(engine());
      const page = await engine().log.read(topic, { offset: 1 }, 10);
      expect(offsetsOf(page.records)).toEqual([4, 5]);
      expect(page.next).toBe(6);
    });

    it("keeps the newest events within maxBytes", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, sameSizeEvents(10));
      const full = await engine().log.stats(topic);
      const perEvent = full.bytes / 10;
      await engine().log.putTopic(
        topicConfig(topic, { retention: { maxBytes: Math.floor(3.5 * perEvent) } }),
      );
      await enforce(engine());
      const stats = await engine().log.stats(topic);
      expect(stats).toMatchObject({ events: 3, firstOffset: 8, lastOffset: 10 });
      expect(stats.bytes).toBeLessThanOrEqual(Math.floor(3.5 * perEvent));
      expectConsistent(stats);
    });

    it("removes events older than maxAgeMs and keeps younger ones", async () => {
      const topic = await createTopic(engine(), { retention: { maxAgeMs: MAX_AGE_MS } });
      await engine().log.append(topic, newEvents(3));
      const oldest = (await readAll(engine(), topic))[0]?.appendedAt ?? 0;
      await eventually(() => expect(Date.now()).toBeGreaterThan(oldest + MAX_AGE_MS + 5), {
        timeoutMs: MAX_AGE_MS + POSITIVE_MS,
      });
      await engine().log.append(topic, newEvents(2));
      await enforce(engine());
      const stats = await engine().log.stats(topic);
      expect(stats).toMatchObject({ events: 2, firstOffset: 4, lastOffset: 5 });
      expectConsistent(stats);
    });

    it("keeps young events under maxAgeMs", async () => {
      const topic = await createTopic(engine(), { retention: { maxAgeMs: 3_600_000 } });
      await engine().log.append(topic, newEvents(3));
      await enforce(engine());
      expect((await engine().log.stats(topic)).events).toBe(3);
    });

    it("reports an emptied topic consistently and keeps counting offsets", async () => {
      const topic = await createTopic(engine(), { retention: { maxAgeMs: MAX_AGE_MS } });
      await engine().log.append(topic, newEvents(4));
      await eventually(
        async () => {
          await enforce(engine());
          expect((await engine().log.stats(topic)).events).toBe(0);
        },
        { timeoutMs: MAX_AGE_MS + POSITIVE_MS },
      );
      const stats = await engine().log.stats(topic);
      expect(stats).toEqual({ events: 0, bytes: 0, firstOffset: 5, lastOffset: 4 });
      expect(await engine().log.read(topic, { offset: 1 }, 10)).toEqual({ records: [], next: 5 });
      expect(await engine().log.append(topic, newEvents(1))).toEqual([
        { offset: 5, duplicate: false },
      ]);
    });

    it("leaves topics without retention alone", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(20));
      await enforce(engine());
      expect(await engine().log.stats(topic)).toMatchObject({ events: 20, firstOffset: 1 });
    });

    it("skips removed events for a subscription that had not reached them", async () => {
      const s = await setup(engine(), { topic: { retention: { maxEvents: 2 } } });
      await engine().log.append(s.topic, newEvents(6));
      await enforce(engine());
      expect((await engine().cursors.stats(s.sub)).lag).toBe(2);
      expect(offsetsOf(await leaseNow(engine(), s.sub))).toEqual([5, 6]);
    });
  });
}
