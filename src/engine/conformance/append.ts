import { describe, expect, it } from "vitest";
import type { Appended } from "../engine.js";
import { eventOf, newEvent, newEvents, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { offsetsOf, readAll } from "./probes.js";
import { createTopic, useEngine } from "./scope.js";

function offsetOf(result: Appended | undefined): number {
  if (result === undefined || !("offset" in result))
    throw new Error(`expected an offset, got ${JSON.stringify(result)}`);
  return result.offset;
}

export function appendTests(harness: EngineHarness): void {
  describe("append", () => {
    const engine = useEngine(harness);

    it("gives offsets from 1, contiguous, in input order, across calls", async () => {
      const topic = await createTopic(engine());
      const first = await engine().log.append(topic, newEvents(3));
      const second = await engine().log.append(topic, newEvents(2));
      expect(first).toEqual([1, 2, 3].map((offset) => ({ offset, duplicate: false })));
      expect(second).toEqual([4, 5].map((offset) => ({ offset, duplicate: false })));
    });

    it("stores each event as given: body, key, topic, append time", async () => {
      const topic = await createTopic(engine());
      const events = [newEvent({ key: "k-1" }), newEvent(), newEvent({ key: "k-2", data: "x" })];
      const before = Date.now();
      await engine().log.append(topic, events);
      const after = Date.now();
      const records = await readAll(engine(), topic);
      expect(offsetsOf(records)).toEqual([1, 2, 3]);
      records.forEach((record, i) => {
        expect(record.topic).toBe(topic);
        expect(record.key).toBe(events[i]?.key);
        expect(JSON.parse(record.body)).toEqual(JSON.parse(events[i]?.body ?? ""));
        // Engines may use their server's clock; a minute of skew is still "now".
        expect(record.appendedAt).toBeGreaterThan(before - 60_000);
        expect(record.appendedAt).toBeLessThan(after + 60_000);
      });
    });

    it("never lets append time go backwards as offsets grow", async () => {
      const topic = await createTopic(engine());
      for (let i = 0; i < 5; i++) await engine().log.append(topic, newEvents(3));
      const times = (await readAll(engine(), topic)).map((r) => r.appendedAt);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });

    it("answers an empty batch with no results and stores nothing", async () => {
      const topic = await createTopic(engine());
      expect(await engine().log.append(topic, [])).toEqual([]);
      expect((await engine().log.stats(topic)).events).toBe(0);
    });

    it("gives 50 concurrent appenders unique contiguous offsets, every event stored once", async () => {
      const topic = await createTopic(engine());
      const batches = Array.from({ length: 50 }, (_, i) =>
        newEvents(1 + (i % 4), uniqueName(`c${i}`)),
      );
      const results = await Promise.all(batches.map((b) => engine().log.append(topic, b)));
      const total = batches.reduce((n, b) => n + b.length, 0);
      const offsets = results.flatMap((r) => r.map(offsetOf));
      expect([...offsets].sort((a, b) => a - b)).toEqual(
        Array.from({ length: total }, (_, i) => i + 1),
      );
      if (engine().capabilities.atomicBatch)
        for (const r of results) {
          const own = r.map(offsetOf);
          expect(own).toEqual(own.map((_, i) => (own[0] ?? 0) + i));
        }
      const records = await readAll(engine(), topic);
      const byOffset = new Map(records.map((r) => [r.offset, eventOf(r).id]));
      expect(records).toHaveLength(total);
      batches.forEach((batch, b) => {
        batch.forEach((event, i) => {
          expect(byOffset.get(offsetOf(results[b]?.[i]))).toBe(event.id);
        });
      });
    });
  });
}
