import { describe, expect, it } from "vitest";
import { newEvent, newEvents, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import {
  elapse,
  expectCode,
  LONG_LEASE_MS,
  leaseNow,
  leaseUntil,
  SHORT_LEASE_MS,
  statusesOf,
} from "./probes.js";
import { createSubscription, createTopic, setup, useEngine } from "./scope.js";

export function statsTests(harness: EngineHarness): void {
  describe("stats", () => {
    const engine = useEngine(harness);

    it("describes an empty topic: no events, first offset 1, last offset 0", async () => {
      const topic = await createTopic(engine());
      expect(await engine().log.stats(topic)).toEqual({
        events: 0,
        bytes: 0,
        firstOffset: 1,
        lastOffset: 0,
      });
    });

    it("counts stored events and bytes; duplicates add nothing", async () => {
      const topic = await createTopic(engine());
      const events = newEvents(5);
      await engine().log.append(topic, events);
      const five = await engine().log.stats(topic);
      expect(five).toMatchObject({ events: 5, firstOffset: 1, lastOffset: 5 });
      expect(five.bytes).toBeGreaterThanOrEqual(events.reduce((n, e) => n + e.body.length, 0));
      await engine().log.append(topic, events);
      expect(await engine().log.stats(topic)).toEqual(five);
      await engine().log.append(topic, [newEvent({ data: "x".repeat(10_000) })]);
      const six = await engine().log.stats(topic);
      expect(six.bytes - five.bytes).toBeGreaterThanOrEqual(10_000);
    });

    it("describes a new subscription: nothing delivered, position at its start", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(5));
      const latest = await createSubscription(engine(), topic, { start: "latest" });
      const earliest = await createSubscription(engine(), topic, { start: "earliest" });
      const zero = { inFlight: 0, delivered: 0, acked: 0, deadLettered: 0, oldestUnackedAgeMs: 0 };
      expect(await engine().cursors.stats(latest.name)).toEqual({ position: 6, lag: 0, ...zero });
      expect(await engine().cursors.stats(earliest.name)).toEqual({ position: 1, lag: 5, ...zero });
    });

    it("counts a subscription's deliveries, acks, dead letters, in-flight and lag", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(6));
      const c = engine().cursors;
      const [a, b, d] = await leaseNow(engine(), s.sub, { max: 3, leaseMs: LONG_LEASE_MS });
      if (a === undefined || b === undefined || d === undefined) throw new Error("three expected");
      expect(await c.stats(s.sub)).toMatchObject({
        position: 4,
        lag: 6,
        inFlight: 3,
        delivered: 3,
      });
      await c.ack(s.sub, [a.ackId, b.ackId]);
      expect(await c.stats(s.sub)).toMatchObject({ lag: 4, inFlight: 1, acked: 2 });
      await c.reject(s.sub, [d.ackId], "bad");
      expect(await c.stats(s.sub)).toMatchObject({
        lag: 3,
        inFlight: 0,
        acked: 2,
        deadLettered: 1,
      });
      const [e] = await leaseNow(engine(), s.sub, { max: 1, leaseMs: LONG_LEASE_MS });
      await c.nack(s.sub, [e?.ackId ?? ""], LONG_LEASE_MS);
      expect(await c.stats(s.sub)).toMatchObject({ lag: 3, inFlight: 0, delivered: 4 });
    });

    it("counts every redelivery as a delivery", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(1));
      await leaseNow(engine(), s.sub, { leaseMs: SHORT_LEASE_MS });
      await leaseUntil(engine(), s.sub, 1, { leaseMs: LONG_LEASE_MS });
      expect(await engine().cursors.stats(s.sub)).toMatchObject({
        delivered: 2,
        inFlight: 1,
        lag: 1,
      });
    });

    it("ages the oldest unacked delivery, and resets it to 0 once acked", async () => {
      const s = await setup(engine());
      const appended = Date.now();
      await engine().log.append(s.topic, newEvents(1));
      const [d] = await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS });
      await elapse(100);
      const age = (await engine().cursors.stats(s.sub)).oldestUnackedAgeMs;
      expect(age).toBeGreaterThanOrEqual(100 - 5);
      expect(age).toBeLessThanOrEqual(Date.now() - appended + 5);
      expect(statusesOf(await engine().cursors.ack(s.sub, [d?.ackId ?? ""]))).toEqual(["ok"]);
      expect((await engine().cursors.stats(s.sub)).oldestUnackedAgeMs).toBe(0);
    });

    it("rejects stats of unknown topics and subscriptions", async () => {
      await expectCode(engine().log.stats(uniqueName()), "topic_not_found");
      await expectCode(engine().cursors.stats(uniqueName()), "subscription_not_found");
    });
  });
}
