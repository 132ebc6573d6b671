import { describe, expect, it } from "vitest";
import type { Engine } from "../engine.js";
import { newEvents, subscriptionConfig, topicConfig, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { elapse, expectCode } from "./probes.js";
import { setup } from "./scope.js";

/** Every kind of call, for checking what a closed engine answers. */
function everyCall(engine: Engine, topic: string, sub: string): [string, () => Promise<unknown>][] {
  const ackIds = ["1.1.1"];
  return [
    ["putTopic", () => engine.log.putTopic(topicConfig(uniqueName()))],
    ["getTopic", () => engine.log.getTopic(topic)],
    ["listTopics", () => engine.log.listTopics()],
    ["append", () => engine.log.append(topic, newEvents(1))],
    ["read", () => engine.log.read(topic, { offset: 1 }, 10)],
    ["topic stats", () => engine.log.stats(topic)],
    ["enforceRetention", () => engine.log.enforceRetention()],
    ["putSubscription", () => engine.cursors.putSubscription(subscriptionConfig(sub, topic))],
    ["getSubscription", () => engine.cursors.getSubscription(sub)],
    ["lease", () => engine.cursors.lease(sub, { max: 1, waitMs: 0 })],
    ["ack", () => engine.cursors.ack(sub, ackIds)],
    ["nack", () => engine.cursors.nack(sub, ackIds, null)],
    ["extend", () => engine.cursors.extend(sub, ackIds)],
    ["reject", () => engine.cursors.reject(sub, ackIds, "x")],
    ["seek", () => engine.cursors.seek(sub, "earliest")],
    ["redrive", () => engine.cursors.redrive(sub, { dryRun: true })],
    ["subscription stats", () => engine.cursors.stats(sub)],
    ["catalog get", () => engine.catalog.get("kind", "key")],
    ["catalog list", () => engine.catalog.list("kind")],
    ["catalog put", () => engine.catalog.put("kind", "key", { v: 1 })],
    ["catalog delete", () => engine.catalog.delete("kind", "key")],
    ["ready", () => engine.ready()],
  ];
}

export function lifecycleTests(harness: EngineHarness): void {
  describe("lifecycle", () => {
    it("is ready once open", async () => {
      const engine = await harness.open();
      try {
        await expect(engine.ready()).resolves.toBeUndefined();
      } finally {
        await engine.close();
      }
    });

    it("answers every call after close() with engine_unavailable; close is idempotent", async () => {
      const engine = await harness.open();
      const s = await setup(engine);
      await engine.close();
      await engine.close();
      for (const [name, call] of everyCall(engine, s.topic, s.sub)) {
        await expectCode(call(), "engine_unavailable").catch((error: unknown) => {
          throw new Error(`${name} after close: ${String(error)}`);
        });
      }
    });

    it("wakes a waiting lease with nothing when the engine closes", async () => {
      const engine = await harness.open();
      const s = await setup(engine);
      const waiting = engine.cursors.lease(s.sub, { max: 10, waitMs: 30_000 });
      await elapse(50);
      const closing = engine.close();
      expect(await waiting).toEqual([]);
      await closing;
    });
  });
}
