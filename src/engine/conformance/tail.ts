import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import type { LogPosition } from "../../core/positions.js";
import type { Engine, LogRecord } from "../engine.js";
import { newEvents, topicConfig, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, offsetsOf, POSITIVE_MS, readAll } from "./probes.js";
import { createTopic, useEngine } from "./scope.js";

interface Tail {
  readonly records: LogRecord[];
  /** Resolves when the iteration ends by itself; rejects if it throws. */
  readonly ended: Promise<void>;
  readonly controller: AbortController;
}

function startTail(engine: Engine, topic: string, from: LogPosition): Tail {
  const controller = new AbortController();
  const records: LogRecord[] = [];
  const ended = (async () => {
    for await (const record of engine.log.tail(topic, from, controller.signal))
      records.push(record);
  })();
  // Observed by the tests; this keeps an early failure from being reported as unhandled.
  ended.catch(() => undefined);
  return { records, ended, controller };
}

async function expectOffsets(tail: Tail, offsets: number[]): Promise<void> {
  await eventually(() => expect(offsetsOf(tail.records)).toEqual(offsets), {
    timeoutMs: POSITIVE_MS,
  });
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function tailTests(harness: EngineHarness): void {
  describe("tail", () => {
    const engine = useEngine(harness);

    it("yields the backlog, then each new event as it is appended, and ends on abort", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(3));
      const tail = startTail(engine(), topic, { offset: 1 });
      await expectOffsets(tail, [1, 2, 3]);
      await engine().log.append(topic, newEvents(2));
      await expectOffsets(tail, [1, 2, 3, 4, 5]);
      tail.controller.abort();
      await expect(tail.ended).resolves.toBeUndefined();
      await engine().log.append(topic, newEvents(1));
      expect(offsetsOf(tail.records)).toEqual([1, 2, 3, 4, 5]);
    });

    it("yields the records a read returns, body and all", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(4, uniqueName("e"), { key: "k" }));
      const tail = startTail(engine(), topic, { offset: 2 });
      await expectOffsets(tail, [2, 3, 4]);
      tail.controller.abort();
      await tail.ended;
      expect(tail.records).toEqual((await readAll(engine(), topic)).slice(1));
    });

    it("starts at a time: backlog from the first event appended at or after it, then live", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(2));
      const firstTwo = await readAll(engine(), topic);
      const from = (firstTwo.at(-1)?.appendedAt ?? 0) + 1;
      await eventually(() => expect(Date.now()).toBeGreaterThan(from));
      await engine().log.append(topic, newEvents(2));
      const tail = startTail(engine(), topic, { time: from });
      await expectOffsets(tail, [3, 4]);
      await engine().log.append(topic, newEvents(1));
      await expectOffsets(tail, [3, 4, 5]);
      tail.controller.abort();
      await tail.ended;
    });

    it("delivers every event exactly once and in order while appends race it", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(10));
      const tail = startTail(engine(), topic, { offset: 1 });
      await Promise.all(range(1, 19).map(() => engine().log.append(topic, newEvents(10))));
      await expectOffsets(tail, range(1, 200));
      tail.controller.abort();
      await tail.ended;
    });

    it("ends promptly when aborted while waiting for new events", async () => {
      const topic = await createTopic(engine());
      const tail = startTail(engine(), topic, { offset: 1 });
      await engine().log.append(topic, newEvents(1));
      await expectOffsets(tail, [1]);
      tail.controller.abort();
      await expect(tail.ended).resolves.toBeUndefined();
    });

    it("ends at once for a signal that is already aborted", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(3));
      const controller = new AbortController();
      controller.abort();
      const seen: LogRecord[] = [];
      for await (const record of engine().log.tail(topic, { offset: 1 }, controller.signal))
        seen.push(record);
      expect(seen).toEqual([]);
    });

    it("rejects a tail of an unknown topic with topic_not_found", async () => {
      const tail = startTail(engine(), uniqueName(), { offset: 1 });
      await expectCode(tail.ended, "topic_not_found");
    });

    it("ends a waiting tail when the engine closes", async () => {
      const own = await harness.open();
      const topic = uniqueName();
      await own.log.putTopic(topicConfig(topic));
      await own.log.append(topic, newEvents(1));
      const tail = startTail(own, topic, { offset: 1 });
      await expectOffsets(tail, [1]);
      await own.close();
      await expect(tail.ended).resolves.toBeUndefined();
    });
  });
}
