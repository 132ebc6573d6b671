import { describe, expect, it } from "vitest";
import { newEvents, topicConfig, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, LONG_LEASE_MS, leaseNow, readAll, statusesOf } from "./probes.js";
import { createSubscription, createTopic, setup, useEngine } from "./scope.js";

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

    it("keeps a topic's router-owned marker: it round-trips in get and list", async () => {
      const owned = await createTopic(engine(), { owner: "router" });
      const plain = await createTopic(engine());
      expect(await engine().log.getTopic(owned)).toEqual(topicConfig(owned, { owner: "router" }));
      expect((await engine().log.getTopic(plain))?.owner).toBeUndefined();
      const listed = await engine().log.listTopics();
      expect(listed).toContainEqual(topicConfig(owned, { owner: "router" }));
      expect(listed.find((t) => t.name === plain)?.owner).toBeUndefined();
    });

    it("the marker is sticky: a put without it keeps it, only deleting the topic clears it", async () => {
      const name = await createTopic(engine());
      await engine().log.putTopic(topicConfig(name, { owner: "router" }));
      expect((await engine().log.getTopic(name))?.owner).toBe("router");
      const updated = topicConfig(name, { retention: { maxEvents: 3 }, dedupeWindowMs: 0 });
      expect(await engine().log.putTopic(updated)).toEqual({ created: false });
      expect(await engine().log.getTopic(name)).toEqual({ ...updated, owner: "router" });
      expect(await engine().log.deleteTopic(name)).toBe(true);
      await createTopic(engine(), { name });
      expect((await engine().log.getTopic(name))?.owner).toBeUndefined();
    });

    it("stores schema settings, keeps them on a put without them, replaces them on a put with them", async () => {
      const enforce = { mode: "enforce", allowUnregisteredTypes: false } as const;
      const name = await createTopic(engine(), { schemas: enforce });
      expect(await engine().log.getTopic(name)).toEqual(topicConfig(name, { schemas: enforce }));
      expect((await engine().log.listTopics()).find((t) => t.name === name)?.schemas).toEqual(
        enforce,
      );
      const updated = topicConfig(name, { maxEventBytes: 4096 });
      await engine().log.putTopic(updated);
      expect(await engine().log.getTopic(name)).toEqual({ ...updated, schemas: enforce });
      const warn = { mode: "warn", allowUnregisteredTypes: true } as const;
      await engine().log.putTopic(topicConfig(name, { schemas: warn }));
      expect((await engine().log.getTopic(name))?.schemas).toEqual(warn);
      expect((await engine().log.getTopic(await createTopic(engine())))?.schemas).toBeUndefined();
    });

    it("re-creates a deleted dead-letter topic router-owned when it dead-letters into it", async () => {
      const s = await setup(engine());
      expect(await engine().log.deleteTopic(s.dlq)).toBe(true);
      await engine().log.append(s.topic, newEvents(1));
      const [d] = await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS });
      if (d === undefined) throw new Error("a delivery expected");
      expect(statusesOf(await engine().cursors.reject(s.sub, [d.ackId], "bad"))).toEqual(["ok"]);
      expect(await engine().log.getTopic(s.dlq)).toEqual(topicConfig(s.dlq, { owner: "router" }));
      expect(await readAll(engine(), s.dlq)).toHaveLength(1);
    });
  });

  describe("topics across a restart", () => {
    for (const how of ["close", "kill"] as const)
      it(`after ${how}: the router-owned marker and schema settings survive`, async () => {
        const before = await harness.open();
        const owned = await createTopic(before, { owner: "router", retention: { maxEvents: 9 } });
        const plain = await createTopic(before);
        const schemas = { mode: "warn", allowUnregisteredTypes: false } as const;
        const checked = await createTopic(before, { schemas });
        const after = await harness.reopen(before, how);
        try {
          expect(await after.log.getTopic(owned)).toEqual(
            topicConfig(owned, { owner: "router", retention: { maxEvents: 9 } }),
          );
          expect(await after.log.getTopic(plain)).toEqual(topicConfig(plain));
          expect(await after.log.getTopic(checked)).toEqual(topicConfig(checked, { schemas }));
        } finally {
          await after.close();
        }
      });
  });
}
