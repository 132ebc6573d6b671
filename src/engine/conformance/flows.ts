import { describe, expect, it } from "vitest";
import type { Engine, FlowPage } from "../engine.js";
import { eventOf, newEvent, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, idsOf } from "./probes.js";
import { createTopic, useEngine } from "./scope.js";

const INDEXED = { indexes: ["correlationid"] as const };

function correlated(correlationId: string, id: string, extra: Record<string, string> = {}) {
  return newEvent({ id, extensions: { correlationid: correlationId, ...extra } });
}

/** The flow once every index is built (a backfill elsewhere answers `index_missing`). */
async function flowWhenReady(engine: Engine, id: string, limit = 1_000): Promise<FlowPage> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await engine.log.flow(id, limit);
    } catch (error) {
      if (Date.now() > deadline || (error as { code?: string }).code !== "index_missing")
        throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function untilIndexReady(engine: Engine, topic: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await engine.log.stats(topic)).indexes?.correlationid?.state !== "ready") {
    if (Date.now() > deadline) throw new Error(`the index of ${topic} never got ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function flowTests(harness: EngineHarness): void {
  describe("flows (correlationid index)", () => {
    const engine = useEngine(harness);

    it("keeps the indexes in the topic's config and shows a ready index in its stats", async () => {
      const topic = await createTopic(engine(), INDEXED);
      expect((await engine().log.getTopic(topic))?.indexes).toEqual(["correlationid"]);
      expect((await engine().log.stats(topic)).indexes).toEqual({
        correlationid: { state: "ready", remaining: 0 },
      });
      const plain = await createTopic(engine());
      expect((await engine().log.getTopic(plain))?.indexes ?? []).toEqual([]);
      expect((await engine().log.stats(plain)).indexes).toBeUndefined();
    });

    it("answers one correlation id's events across indexed topics, in append order", async () => {
      const orders = await createTopic(engine(), INDEXED);
      const payments = await createTopic(engine(), INDEXED);
      const plain = await createTopic(engine());
      const flow = uniqueName("flow");
      const other = uniqueName("other");
      await engine().log.append(orders, [correlated(flow, "o1")]);
      await engine().log.append(payments, [correlated(flow, "p1", { causationid: "o1" })]);
      await engine().log.append(plain, [correlated(flow, "x1")]);
      await engine().log.append(orders, [
        correlated(other, "o2"),
        newEvent({ id: "o3" }),
        correlated(flow, "o4", { causationid: "p1" }),
      ]);
      // A repeat inside the dedupe window is not stored, so it is not indexed again.
      await engine().log.append(orders, [correlated(flow, "o1")]);
      const page = await flowWhenReady(engine(), flow);
      expect(idsOf(page.records)).toEqual(["o1", "p1", "o4"]);
      expect(page.records.map((r) => r.topic)).toEqual([orders, payments, orders]);
      expect(page.records.map((r) => r.offset)).toEqual([1, 1, 4]);
      expect(page.records.map((r) => eventOf(r).causationid)).toEqual([undefined, "o1", "p1"]);
      expect(page.truncated).toBe(false);
      expect(idsOf((await flowWhenReady(engine(), other)).records)).toEqual(["o2"]);
      expect(await flowWhenReady(engine(), uniqueName("unknown"))).toEqual({
        records: [],
        truncated: false,
      });
    });

    it("stops at the limit and says the flow was truncated", async () => {
      const topic = await createTopic(engine(), INDEXED);
      const flow = uniqueName("flow");
      await engine().log.append(
        topic,
        Array.from({ length: 5 }, (_, i) => correlated(flow, `e${i + 1}`)),
      );
      const three = await flowWhenReady(engine(), flow, 3);
      expect(idsOf(three.records)).toEqual(["e1", "e2", "e3"]);
      expect(three.truncated).toBe(true);
      const five = await flowWhenReady(engine(), flow, 5);
      expect(five.records).toHaveLength(5);
      expect(five.truncated).toBe(false);
    });

    it("builds an index added to a topic that holds events; index_missing until built", async () => {
      const topic = await createTopic(engine());
      const flow = uniqueName("flow");
      await engine().log.append(
        topic,
        Array.from({ length: 30 }, (_, i) => correlated(flow, `old${i + 1}`)),
      );
      const config = await engine().log.getTopic(topic);
      if (config === null) throw new Error("topic expected");
      await engine().log.putTopic({ ...config, indexes: ["correlationid"] });
      const state = (await engine().log.stats(topic)).indexes?.correlationid;
      expect(state?.state === "building" || state?.state === "ready").toBe(true);
      if (state?.state === "building") {
        expect(state.remaining).toBeGreaterThan(0);
        await expectCode(engine().log.flow(flow, 100), "index_missing");
      }
      await untilIndexReady(engine(), topic);
      await engine().log.append(topic, [correlated(flow, "new1")]);
      const page = await flowWhenReady(engine(), flow, 100);
      expect(idsOf(page.records)).toEqual([
        ...Array.from({ length: 30 }, (_, i) => `old${i + 1}`),
        "new1",
      ]);
    });

    it("drops the index when the config removes it, and with the topic", async () => {
      const kept = await createTopic(engine(), INDEXED);
      const removed = await createTopic(engine(), INDEXED);
      const dropped = await createTopic(engine(), INDEXED);
      const flow = uniqueName("flow");
      for (const [topic, id] of [
        [kept, "k1"],
        [removed, "r1"],
        [dropped, "d1"],
      ] as const)
        await engine().log.append(topic, [correlated(flow, id)]);
      expect(idsOf((await flowWhenReady(engine(), flow)).records)).toEqual(["k1", "r1", "d1"]);
      const config = await engine().log.getTopic(removed);
      if (config === null) throw new Error("topic expected");
      const { indexes: _indexes, ...unindexed } = config;
      await engine().log.putTopic(unindexed);
      expect((await engine().log.stats(removed)).indexes).toBeUndefined();
      await engine().log.deleteTopic(dropped);
      expect(idsOf((await flowWhenReady(engine(), flow)).records)).toEqual(["k1"]);
      // Appends to a topic without the index are not indexed.
      await engine().log.append(removed, [correlated(flow, "r2")]);
      expect(idsOf((await flowWhenReady(engine(), flow)).records)).toEqual(["k1"]);
      // A re-created topic of the same name starts with no entries.
      await createTopic(engine(), { ...INDEXED, name: dropped });
      expect(idsOf((await flowWhenReady(engine(), flow)).records)).toEqual(["k1"]);
    });

    it("leaves out events that retention removed", async () => {
      const topic = await createTopic(engine(), { ...INDEXED, retention: { maxEvents: 2 } });
      const flow = uniqueName("flow");
      for (const id of ["a", "b", "c", "d"])
        await engine().log.append(topic, [correlated(flow, id)]);
      await engine().log.enforceRetention();
      expect((await engine().log.stats(topic)).events).toBe(2);
      expect(idsOf((await flowWhenReady(engine(), flow)).records)).toEqual(["c", "d"]);
    });

    it("rejects on a closed engine", async () => {
      const closed = await harness.open();
      await closed.close();
      await expectCode(closed.log.flow("x", 10), "engine_unavailable");
    });
  });
}
