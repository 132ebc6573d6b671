import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { newEvent, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { POSITIVE_MS, readAll } from "./probes.js";
import { createTopic, useEngine } from "./scope.js";

/** Short enough to wait out, long enough that an immediate repeat is always inside it. */
const SHORT_WINDOW_MS = 1_000;

export function dedupeTests(harness: EngineHarness): void {
  describe("dedupe", () => {
    const engine = useEngine(harness);

    it("answers a repeat in a later call with the original offset and stores nothing", async () => {
      const topic = await createTopic(engine());
      const event = newEvent();
      await engine().log.append(topic, [newEvent(), event]);
      const again = await engine().log.append(topic, [newEvent(), event]);
      expect(again).toEqual([
        { offset: 3, duplicate: false },
        { offset: 2, duplicate: true },
      ]);
      expect((await engine().log.stats(topic)).events).toBe(3);
    });

    it("answers a repeat within the same batch with the earlier offset, offsets stay contiguous", async () => {
      const topic = await createTopic(engine());
      const a = newEvent();
      const b = newEvent();
      const results = await engine().log.append(topic, [a, b, a, newEvent(), b]);
      expect(results).toEqual([
        { offset: 1, duplicate: false },
        { offset: 2, duplicate: false },
        { offset: 1, duplicate: true },
        { offset: 3, duplicate: false },
        { offset: 2, duplicate: true },
      ]);
      expect((await readAll(engine(), topic)).map((r) => r.offset)).toEqual([1, 2, 3]);
    });

    it("keys on source and id together", async () => {
      const topic = await createTopic(engine());
      const id = uniqueName("id");
      const results = await engine().log.append(topic, [
        newEvent({ id, source: "/a" }),
        newEvent({ id, source: "/b" }),
        newEvent({ id: `${id}-other`, source: "/a" }),
      ]);
      expect(results.map((r) => ("duplicate" in r ? r.duplicate : r))).toEqual([
        false,
        false,
        false,
      ]);
    });

    it("keeps windows per topic", async () => {
      const one = await createTopic(engine());
      const two = await createTopic(engine());
      const event = newEvent();
      await engine().log.append(one, [event]);
      expect(await engine().log.append(two, [event])).toEqual([{ offset: 1, duplicate: false }]);
    });

    it("appends the same id again once the window has passed, then dedupes against the new copy", async () => {
      const topic = await createTopic(engine(), { dedupeWindowMs: SHORT_WINDOW_MS });
      const event = newEvent();
      const started = Date.now();
      await engine().log.append(topic, [event]);
      expect(await engine().log.append(topic, [event])).toEqual([{ offset: 1, duplicate: true }]);
      const later = await eventually(
        async () => {
          const [result] = await engine().log.append(topic, [event]);
          expect(result).toEqual({ offset: 2, duplicate: false });
          return Date.now();
        },
        { timeoutMs: SHORT_WINDOW_MS + POSITIVE_MS, intervalMs: 50 },
      );
      expect(later - started).toBeGreaterThanOrEqual(SHORT_WINDOW_MS);
      expect(await engine().log.append(topic, [event])).toEqual([{ offset: 2, duplicate: true }]);
      expect((await engine().log.stats(topic)).events).toBe(2);
    });

    it("stores every repeat when dedupeWindowMs is 0", async () => {
      const topic = await createTopic(engine(), { dedupeWindowMs: 0 });
      const event = newEvent();
      expect(await engine().log.append(topic, [event, event])).toEqual([
        { offset: 1, duplicate: false },
        { offset: 2, duplicate: false },
      ]);
      expect(await engine().log.append(topic, [event])).toEqual([{ offset: 3, duplicate: false }]);
    });
  });
}
