import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import type { Delivery, Engine } from "../engine.js";
import { eventOf, newEvent, newEvents, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import {
  ackAll,
  elapse,
  expectCode,
  idsOf,
  LONG_LEASE_MS,
  leaseNow,
  leaseUntil,
  POSITIVE_MS,
  readAll,
  SHORT_LEASE_MS,
  single,
  statusesOf,
} from "./probes.js";
import { createSubscription, type Setup, setup, useEngine } from "./scope.js";

async function rejectAll(engine: Engine, sub: string, deliveries: readonly Delivery[]) {
  const ackIds = deliveries.map((d) => d.ackId);
  expect(statusesOf(await engine.cursors.reject(sub, ackIds, "bad"))).toEqual(
    ackIds.map(() => "ok"),
  );
}

/** A subscription whose first `count` events have all been rejected into its dead-letter topic. */
async function withDeadLetters(engine: Engine, specs: Parameters<typeof newEvent>[0][]) {
  const s = await setup(engine);
  await engine.log.append(s.topic, specs.map(newEvent));
  await rejectAll(engine, s.sub, await leaseNow(engine, s.sub, { leaseMs: LONG_LEASE_MS }));
  return s;
}

async function deadLetterCount(engine: Engine, s: Setup): Promise<number> {
  return (await engine.log.stats(s.dlq)).events;
}

export function deadLetterTests(harness: EngineHarness): void {
  describe("dead letters", () => {
    const engine = useEngine(harness);

    it("moves a rejected event to the dead-letter topic with reason, subscription, attempts, offset and key", async () => {
      const s = await setup(engine());
      const original = newEvent({ key: "order-7", data: { total: 42 } });
      await engine().log.append(s.topic, [newEvent(), original]);
      const [, d] = await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS });
      if (d === undefined) throw new Error("two deliveries expected");
      expect(statusesOf(await engine().cursors.reject(s.sub, [d.ackId], "bad payload"))).toEqual([
        "ok",
      ]);
      const copy = single(await readAll(engine(), s.dlq));
      expect(copy.key).toBe("order-7");
      expect(eventOf(copy)).toEqual({
        ...JSON.parse(original.body),
        deadletterreason: "bad payload",
        deadlettersubscription: s.sub,
        deadletterattempts: 1,
        deadletteroffset: 2,
      });
    });

    it("takes a rejected event out of the subscription for good", async () => {
      const s = await withDeadLetters(engine(), [{}]);
      await elapse(2 * SHORT_LEASE_MS);
      expect(await leaseNow(engine(), s.sub)).toEqual([]);
      const stats = await engine().cursors.stats(s.sub);
      expect([stats.lag, stats.inFlight, stats.deadLettered]).toEqual([0, 0, 1]);
    });

    it("dead-letters an event whose leases keep expiring, after maxAttempts", async () => {
      const s = await setup(engine(), { sub: { maxAttempts: 2, ackTimeoutMs: SHORT_LEASE_MS } });
      await engine().log.append(s.topic, [newEvent({ key: "k" })]);
      const attempts: number[] = [];
      await eventually(
        async () => {
          attempts.push(...(await leaseNow(engine(), s.sub)).map((d) => d.attempt));
          expect(await deadLetterCount(engine(), s)).toBe(1);
        },
        { timeoutMs: POSITIVE_MS },
      );
      expect(attempts).toEqual([1, 2]);
      const copy = single(await readAll(engine(), s.dlq));
      expect(copy.key).toBe("k");
      expect(eventOf(copy)).toMatchObject({
        deadletterreason: "max attempts exceeded",
        deadlettersubscription: s.sub,
        deadletterattempts: 2,
        deadletteroffset: 1,
      });
      expect(await leaseNow(engine(), s.sub)).toEqual([]);
    });

    it("dead-letters a nacked event once its next attempt would exceed maxAttempts", async () => {
      const s = await setup(engine(), { sub: { maxAttempts: 2 } });
      await engine().log.append(s.topic, newEvents(1));
      for (const attempt of [1, 2]) {
        const [d] = await leaseUntil(engine(), s.sub, 1, { leaseMs: LONG_LEASE_MS });
        expect(d?.attempt).toBe(attempt);
        await engine().cursors.nack(s.sub, [d?.ackId ?? ""], 0);
      }
      await eventually(async () => {
        expect(await leaseNow(engine(), s.sub)).toEqual([]);
        expect(await deadLetterCount(engine(), s)).toBe(1);
      });
      expect((await engine().cursors.stats(s.sub)).deadLettered).toBe(1);
    });

    it("reports the dead letters not yet redriven as the depth: 0, then 3, 1 after a partial redrive, 0 after the rest", async () => {
      const fresh = await setup(engine());
      expect(await engine().cursors.deadLetterDepth(fresh.sub)).toBe(0);
      const s = await withDeadLetters(engine(), [{ key: "a" }, { key: "b" }, {}]);
      expect(await engine().cursors.deadLetterDepth(s.sub)).toBe(3);
      await engine().cursors.redrive(s.sub, { dryRun: true });
      expect(await engine().cursors.deadLetterDepth(s.sub)).toBe(3);
      expect(await engine().cursors.redrive(s.sub, { limit: 2 })).toMatchObject({ moved: 2 });
      expect(await engine().cursors.deadLetterDepth(s.sub)).toBe(1);
      expect(await engine().cursors.redrive(s.sub, {})).toMatchObject({ moved: 1 });
      expect(await engine().cursors.deadLetterDepth(s.sub)).toBe(0);
      await expectCode(
        engine().cursors.deadLetterDepth(uniqueName("nosub")),
        "subscription_not_found",
      );
    });

    it("counts what a dry run would redrive, ordering keys included, and moves nothing", async () => {
      const s = await withDeadLetters(engine(), [{ key: "a" }, { key: "a" }, { key: "b" }, {}]);
      const dry = await engine().cursors.redrive(s.sub, { dryRun: true });
      expect(dry).toEqual({ matched: 4, keys: 2, moved: 0 });
      expect(await leaseNow(engine(), s.sub)).toEqual([]);
      expect(await engine().cursors.redrive(s.sub, { dryRun: true })).toEqual(dry);
    });

    it("redrives every dead letter as the original event, attempt 1, without touching the source topic", async () => {
      const s = await withDeadLetters(engine(), [{ key: "a" }, { key: "b" }, { key: "a" }]);
      const originals = await readAll(engine(), s.topic);
      expect(await engine().cursors.redrive(s.sub, {})).toEqual({ matched: 3, keys: 2, moved: 3 });
      const again = await leaseUntil(engine(), s.sub, 3, { leaseMs: LONG_LEASE_MS });
      expect(again.map((d) => d.record)).toEqual(originals);
      expect(again.map((d) => d.attempt)).toEqual([1, 1, 1]);
      expect(await readAll(engine(), s.topic)).toEqual(originals);
      // Acked, a redriven event reports its original append time (append → ack latency).
      expect(
        await engine().cursors.ack(
          s.sub,
          again.map((d) => d.ackId),
        ),
      ).toEqual(
        again.map((d, i) => ({
          ackId: d.ackId,
          status: "ok",
          appendedAt: originals[i]?.appendedAt,
        })),
      );
    });

    it("redrives each dead-lettering at most once", async () => {
      const s = await withDeadLetters(engine(), [{}, {}]);
      expect((await engine().cursors.redrive(s.sub, {})).moved).toBe(2);
      expect(await engine().cursors.redrive(s.sub, {})).toEqual({ matched: 0, keys: 0, moved: 0 });
      expect(await leaseUntil(engine(), s.sub, 2)).toHaveLength(2);
    });

    it("redrives only the events named by ids", async () => {
      const s = await withDeadLetters(engine(), [{ id: "x-1" }, { id: "x-2" }, { id: "x-3" }]);
      expect(await engine().cursors.redrive(s.sub, { ids: ["x-2"] })).toMatchObject({
        matched: 1,
        moved: 1,
      });
      expect(idsOf(await leaseUntil(engine(), s.sub, 1))).toEqual(["x-2"]);
    });

    it("redrives only the events matching a filter over the original attributes", async () => {
      const s = await withDeadLetters(engine(), [
        { id: "f-1", type: "retry.me" },
        { id: "f-2", type: "leave.me" },
        { id: "f-3", type: "retry.me" },
      ]);
      const filter = { exact: { type: "retry.me" } };
      expect(await engine().cursors.redrive(s.sub, { filter })).toMatchObject({
        matched: 2,
        moved: 2,
      });
      expect(idsOf(await leaseUntil(engine(), s.sub, 2))).toEqual(["f-1", "f-3"]);
    });

    it("redrives at most limit events, oldest first; the rest stay for the next redrive", async () => {
      const s = await withDeadLetters(engine(), [{ id: "l-1" }, { id: "l-2" }, { id: "l-3" }]);
      expect(await engine().cursors.redrive(s.sub, { limit: 2 })).toMatchObject({
        matched: 2,
        moved: 2,
      });
      expect(idsOf(await leaseUntil(engine(), s.sub, 2))).toEqual(["l-1", "l-2"]);
      expect(await engine().cursors.redrive(s.sub, {})).toMatchObject({ matched: 1, moved: 1 });
      expect(idsOf(await leaseUntil(engine(), s.sub, 1))).toEqual(["l-3"]);
    });

    it("redrives under key ordering one at a time per key, in original order", async () => {
      const s = await setup(engine(), { sub: { ordering: "key" } });
      await engine().log.append(s.topic, [
        newEvent({ id: "a1", key: "a" }),
        newEvent({ id: "a2", key: "a" }),
        newEvent({ id: "b1", key: "b" }),
      ]);
      for (let i = 0; i < 2; i++)
        await rejectAll(
          engine(),
          s.sub,
          await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS }),
        );
      expect(await engine().cursors.redrive(s.sub, {})).toEqual({ matched: 3, keys: 2, moved: 3 });
      const first = await leaseUntil(engine(), s.sub, 2, { leaseMs: LONG_LEASE_MS });
      expect(idsOf(first)).toEqual(["a1", "b1"]);
      expect(await leaseNow(engine(), s.sub)).toEqual([]);
      await ackAll(engine(), s.sub, first);
      expect(idsOf(await leaseNow(engine(), s.sub))).toEqual(["a2"]);
    });

    it("dead-letters a redriven event again despite the dead-letter topic's dedupe window", async () => {
      const s = await withDeadLetters(engine(), [{ id: "again" }]);
      await engine().cursors.redrive(s.sub, {});
      await rejectAll(
        engine(),
        s.sub,
        await leaseUntil(engine(), s.sub, 1, { leaseMs: LONG_LEASE_MS }),
      );
      expect(idsOf(await readAll(engine(), s.dlq))).toEqual(["again", "again"]);
      expect(await engine().cursors.redrive(s.sub, { dryRun: true })).toMatchObject({ matched: 1 });
    });

    it("redrives only this subscription's dead letters when a dead-letter topic is shared", async () => {
      const s = await withDeadLetters(engine(), [{}]);
      const other = await createSubscription(engine(), s.topic, {
        start: "earliest",
        deadLetterTopic: s.dlq,
      });
      expect(await engine().cursors.redrive(other.name, { dryRun: true })).toMatchObject({
        matched: 0,
      });
      expect(await engine().cursors.redrive(s.sub, { dryRun: true })).toMatchObject({ matched: 1 });
    });

    it("rejects a redrive of an unknown subscription with subscription_not_found", async () => {
      await expectCode(engine().cursors.redrive(uniqueName(), {}), "subscription_not_found");
    });
  });
}
