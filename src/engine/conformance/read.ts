import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import type { Engine, LogRecord } from "../engine.js";
import { newEvents, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, offsetsOf, readAll } from "./probes.js";
import { createTopic, useEngine } from "./scope.js";

/** Appends `count` events once the clock has moved past `after`, so append times differ. */
async function appendAfter(engine: Engine, topic: string, after: number, count: number) {
  await eventually(() => expect(Date.now()).toBeGreaterThan(after + 1));
  await engine.log.append(topic, newEvents(count));
}

export function readTests(harness: EngineHarness): void {
  describe("read", () => {
    const engine = useEngine(harness);

    it("reads from an offset, inclusive, up to the limit; next continues", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(10));
      const page = await engine().log.read(topic, { offset: 3 }, 4);
      expect(offsetsOf(page.records)).toEqual([3, 4, 5, 6]);
      expect(page.next).toBe(7);
      const rest = await engine().log.read(topic, { offset: page.next }, 100);
      expect(offsetsOf(rest.records)).toEqual([7, 8, 9, 10]);
      expect(rest.next).toBe(11);
    });

    it("answers an empty page at the end with next = from, ready for new events", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(3));
      expect(await engine().log.read(topic, { offset: 4 }, 10)).toEqual({ records: [], next: 4 });
      expect(await engine().log.read(topic, { offset: 9 }, 10)).toEqual({ records: [], next: 9 });
      await engine().log.append(topic, newEvents(1));
      expect(offsetsOf((await engine().log.read(topic, { offset: 4 }, 10)).records)).toEqual([4]);
    });

    it("answers an empty topic with an empty page and next 1", async () => {
      const topic = await createTopic(engine());
      expect(await engine().log.read(topic, { offset: 1 }, 10)).toEqual({ records: [], next: 1 });
      expect(await engine().log.read(topic, { offset: 0 }, 10)).toEqual({ records: [], next: 1 });
    });

    it("starts a read from offset 0 at the first event", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(2));
      const page = await engine().log.read(topic, { offset: 0 }, 10);
      expect(offsetsOf(page.records)).toEqual([1, 2]);
      expect(page.next).toBe(3);
    });

    it("reads from a time: the first event appended at or after it", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(3));
      let all: LogRecord[] = await readAll(engine(), topic);
      await appendAfter(engine(), topic, all.at(-1)?.appendedAt ?? 0, 3);
      all = await readAll(engine(), topic);
      for (const probe of all) {
        const page = await engine().log.read(topic, { time: probe.appendedAt }, 100);
        const expected = all.filter((r) => r.appendedAt >= probe.appendedAt);
        expect(offsetsOf(page.records)).toEqual(offsetsOf(expected));
      }
      const fourth = all[3];
      if (fourth === undefined) throw new Error("six records expected");
      const page = await engine().log.read(topic, { time: fourth.appendedAt }, 2);
      expect(page.next).toBe((page.records.at(-1)?.offset ?? 0) + 1);
    });

    it("answers a time after the last event with an empty page and next = lastOffset + 1", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(3));
      const last = (await readAll(engine(), topic)).at(-1)?.appendedAt ?? 0;
      expect(await engine().log.read(topic, { time: last + 60_000 }, 10)).toEqual({
        records: [],
        next: 4,
      });
      expect(offsetsOf((await engine().log.read(topic, { time: 0 }, 10)).records)).toEqual([
        1, 2, 3,
      ]);
    });

    it("rejects a read of an unknown topic with topic_not_found", async () => {
      await expectCode(engine().log.read(uniqueName(), { offset: 1 }, 10), "topic_not_found");
    });
  });
}
