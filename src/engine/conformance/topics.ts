import { describe, expect, it } from "vitest";
import { newEvents, topicConfig, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, readAll } from "./probes.js";
import { createSubscription, createTopic, useEngine } from "./scope.js";

export function topicTests(harness: EngineHarness): void {
  describe("topics", () => {
    const engine = useEngine(harness);

    it("creates a topic, then updates it: put answers created true, then false", async () => {
      const name = uniqueName();
      const config = topicConfig(name, { retention: { maxAgeMs: 60_000, maxEvents: 9 } });
      expect(await engine().log.putTopic(config)).toEqual({ created: true });
      expect(await engine().log.getTopic(name)).toEqual(config);
      const updated = topicConfig(name, { dedupeWindowMs: 0, maxEventBytes: 2048, retention: {} });
      expect(await engine().log.putTopic(updated)).toEqual({ created: false });
      expect(await engine().log.getTopic(name)).toEqual(updated);
    });

    it("keeps a topic's events when its config is replaced", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(3));
      await engine().log.putTopic(topicConfig(topic, { retention: { maxBytes: 1 << 30 } }));
      expect(await readAll(engine(), topic)).toHaveLength(3);
    });

    it("answers null for an unknown topic", async () => {
      expect(await engine().log.getTopic(uniqueName())).toBeNull();
    });

    it("lists every topic with its config", async () => {
      const a = await createTopic(engine(), { dedupeWindowMs: 1 });
      const b = await createTopic(engine(), { retention: { maxEvents: 5 } });
      const listed = await engine().log.listTopics();
      expect(listed).toContainEqual(topicConfig(a, { dedupeWindowMs: 1 }));
      expect(listed).toContainEqual(topicConfig(b, { retention: { maxEvents: 5 } }));
    });

    it("deletes a topic and its events; a second delete answers false", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(3));
      expect(await engine().log.deleteTopic(topic)).toBe(true);
      expect(await engine().log.getTopic(topic)).toBeNull();
      expect((await engine().log.listTopics()).map((t) => t.name)).not.toContain(topic);
      await expectCode(engine().log.append(topic, newEvents(1)), "topic_not_found");
      expect(await engine().log.deleteTopic(topic)).toBe(false);
      await createTopic(engine(), { name: topic });
      expect((await engine().log.stats(topic)).events).toBe(0);
      expect(await readAll(engine(), topic)).toEqual([]);
    });

    it("refuses to delete a topic a subscription reads (topic_in_use) until it is gone", async () => {
      const topic = await createTopic(engine());
      const sub = await createSubscription(engine(), topic);
      await expectCode(engine().log.deleteTopic(topic), "topic_in_use");
      expect(await engine().log.getTopic(topic)).not.toBeNull();
      await engine().cursors.deleteSubscription(sub.name);
      expect(await engine().log.deleteTopic(topic)).toBe(true);
    });
  });
}
