import { describe, expect, it } from "vitest";
import { newEvent, newEvents, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import {
  ackAll,
  elapse,
  expectCode,
  idsOf,
  LONG_LEASE_MS,
  leaseNow,
  leaseUntil,
  offsetsOf,
  readAll,
  SHORT_LEASE_MS,
} from "./probes.js";
import { createSubscription, createTopic, setup, useEngine } from "./scope.js";

/** A long poll must answer well before this when something arrives. */
const LONG_WAIT_MS = 20_000;

export function leaseTests(harness: EngineHarness): void {
  describe("lease", () => {
    const engine = useEngine(harness);

    it("hands out events in offset order, attempt 1, one distinct ackId each", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(3));
      const deliveries = await leaseNow(engine(), sub, { leaseMs: LONG_LEASE_MS });
      expect(offsetsOf(deliveries)).toEqual([1, 2, 3]);
      expect(deliveries.map((d) => d.attempt)).toEqual([1, 1, 1]);
      expect(deliveries.map((d) => d.record)).toEqual(await readAll(engine(), topic));
      expect(new Set(deliveries.map((d) => d.ackId)).size).toBe(3);
    });

    it("hands out due redeliveries before new events", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      await leaseNow(engine(), sub, { leaseMs: SHORT_LEASE_MS });
      await engine().log.append(topic, newEvents(2));
      await elapse(2 * SHORT_LEASE_MS);
      const [first] = await leaseNow(engine(), sub, { max: 1, leaseMs: LONG_LEASE_MS });
      expect([first?.record.offset, first?.attempt]).toEqual([1, 2]);
    });

    it("answers at once with nothing when nothing is ready and waitMs is 0", async () => {
      const { sub } = await setup(engine());
      expect(await leaseNow(engine(), sub)).toEqual([]);
    });

    it("hands out at most max, the rest on the next call", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(5));
      expect(offsetsOf(await leaseNow(engine(), sub, { max: 2 }))).toEqual([1, 2]);
      expect(offsetsOf(await leaseNow(engine(), sub, { max: 10 }))).toEqual([3, 4, 5]);
    });

    it("never hands out a leased event again before its lease expires", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(2));
      await leaseNow(engine(), sub, { leaseMs: LONG_LEASE_MS });
      expect(await leaseNow(engine(), sub)).toEqual([]);
    });

    it("redelivers after the lease expires with attempt + 1 and a new ackId", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const [first] = await leaseNow(engine(), sub, { leaseMs: SHORT_LEASE_MS });
      const [second] = await leaseUntil(engine(), sub, 1, { leaseMs: SHORT_LEASE_MS });
      const [third] = await leaseUntil(engine(), sub, 1, { leaseMs: SHORT_LEASE_MS });
      expect([first?.attempt, second?.attempt, third?.attempt]).toEqual([1, 2, 3]);
      expect([second?.record, third?.record]).toEqual([first?.record, first?.record]);
      expect(new Set([first?.ackId, second?.ackId, third?.ackId]).size).toBe(3);
    });

    it("uses the subscription's ackTimeoutMs when no leaseMs is given", async () => {
      const { topic, sub } = await setup(engine(), { sub: { ackTimeoutMs: SHORT_LEASE_MS } });
      await engine().log.append(topic, newEvents(1));
      await leaseNow(engine(), sub);
      const [again] = await leaseUntil(engine(), sub, 1);
      expect(again?.attempt).toBe(2);
    });

    it("caps outstanding deliveries at maxInFlight; an ack frees a slot", async () => {
      const { topic, sub } = await setup(engine(), { sub: { maxInFlight: 3 } });
      await engine().log.append(topic, newEvents(10));
      const first = await leaseNow(engine(), sub, { max: 10, leaseMs: LONG_LEASE_MS });
      expect(offsetsOf(first)).toEqual([1, 2, 3]);
      expect(await leaseNow(engine(), sub, { max: 10 })).toEqual([]);
      await ackAll(engine(), sub, first.slice(0, 1));
      expect(offsetsOf(await leaseNow(engine(), sub, { max: 10 }))).toEqual([4]);
    });

    it("never hands one event to two concurrent lease calls", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(100));
      const batches = await Promise.all(
        Array.from({ length: 10 }, () =>
          engine().cursors.lease(sub, { max: 20, waitMs: 0, leaseMs: LONG_LEASE_MS }),
        ),
      );
      const offsets = batches.flatMap(offsetsOf).sort((a, b) => a - b);
      expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    });

    it("answers a waiting lease as soon as an event is appended", async () => {
      const { topic, sub } = await setup(engine());
      const started = Date.now();
      const waiting = engine().cursors.lease(sub, { max: 10, waitMs: LONG_WAIT_MS });
      await elapse(50);
      await engine().log.append(topic, newEvents(1));
      expect(offsetsOf(await waiting)).toEqual([1]);
      expect(Date.now() - started).toBeLessThan(LONG_WAIT_MS / 2);
    });

    it("wakes a waiting lease on its topic after the subscription was re-created on another", async () => {
      const { sub, config } = await setup(engine());
      // Leased once on its first topic, so an engine that remembers the topic has done so.
      expect(await leaseNow(engine(), sub)).toEqual([]);
      expect(await engine().cursors.deleteSubscription(sub)).toBe(true);
      const other = await createTopic(engine());
      await createSubscription(engine(), other, { ...config, topic: other });
      const started = Date.now();
      const waiting = engine().cursors.lease(sub, { max: 10, waitMs: LONG_WAIT_MS });
      await elapse(50);
      await engine().log.append(other, newEvents(1));
      expect(offsetsOf(await waiting)).toEqual([1]);
      expect(Date.now() - started).toBeLessThan(LONG_WAIT_MS / 2);
    });

    it("answers a waiting lease as soon as a redelivery falls due", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      await leaseNow(engine(), sub, { leaseMs: SHORT_LEASE_MS });
      const started = Date.now();
      const again = await engine().cursors.lease(sub, { max: 10, waitMs: LONG_WAIT_MS });
      expect(again.map((d) => d.attempt)).toEqual([2]);
      expect(Date.now() - started).toBeLessThan(LONG_WAIT_MS / 2);
    });

    it("answers an empty lease after waitMs when nothing arrives", async () => {
      const { sub } = await setup(engine());
      const started = Date.now();
      expect(await engine().cursors.lease(sub, { max: 10, waitMs: 300 })).toEqual([]);
      // Timers may fire a millisecond early; never much earlier.
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it("answers a waiting lease with nothing on abort, and leases nothing to it", async () => {
      const { topic, sub } = await setup(engine());
      const controller = new AbortController();
      const waiting = engine().cursors.lease(sub, {
        max: 10,
        waitMs: LONG_WAIT_MS,
        signal: controller.signal,
      });
      await elapse(50);
      controller.abort();
      expect(await waiting).toEqual([]);
      await engine().log.append(topic, newEvents(1));
      expect(offsetsOf(await leaseNow(engine(), sub))).toEqual([1]);
    });

    it("applies the filter at delivery; events that do not match count as acked", async () => {
      const { topic, sub } = await setup(engine(), {
        sub: { filter: { exact: { type: "wanted" } } },
      });
      await engine().log.append(topic, [
        newEvent({ type: "wanted", id: "a1" }),
        newEvent({ type: "other", id: "b1" }),
        newEvent({ type: "wanted", id: "a2" }),
        newEvent({ type: "other", id: "b2" }),
      ]);
      const deliveries = await leaseNow(engine(), sub);
      expect(idsOf(deliveries)).toEqual(["a1", "a2"]);
      await ackAll(engine(), sub, deliveries);
      expect(await leaseNow(engine(), sub)).toEqual([]);
      expect((await engine().cursors.stats(sub)).lag).toBe(0);
    });

    it("filters on data paths and extension attributes, with every dialect", async () => {
      const { topic, sub } = await setup(engine(), {
        sub: {
          filter: {
            all: [
              { exact: { "data.total": "42" } },
              { any: [{ prefix: { source: "/shop/" } }, { suffix: { region: "-eu" } }] },
              { not: { exact: { "data.customer.tier": "test" } } },
            ],
          },
        },
      });
      const order = (id: string, source: string, data: unknown, region = "us") =>
        newEvent({ id, source, data, extensions: { region } });
      await engine().log.append(topic, [
        order("yes-prefix", "/shop/web", { total: 42, customer: { tier: "gold" } }),
        order("yes-suffix", "/pos", { total: 42 }, "north-eu"),
        order("no-total", "/shop/web", { total: 41 }),
        order("no-source", "/pos", { total: 42 }),
        order("no-tier", "/shop/web", { total: 42, customer: { tier: "test" } }),
      ]);
      expect(idsOf(await leaseNow(engine(), sub))).toEqual(["yes-prefix", "yes-suffix"]);
    });

    it("keeps the position when the filter changes; the new filter applies to events not yet handed out", async () => {
      const { topic, sub, config } = await setup(engine(), {
        sub: { filter: { exact: { type: "a" } } },
      });
      await engine().log.append(topic, [
        newEvent({ type: "a", id: "a1" }),
        newEvent({ type: "b", id: "b1" }),
      ]);
      const leased = await leaseNow(engine(), sub, { leaseMs: LONG_LEASE_MS });
      expect(idsOf(leased)).toEqual(["a1"]);
      expect(await leaseNow(engine(), sub)).toEqual([]);
      await engine().log.append(topic, [
        newEvent({ type: "a", id: "a2" }),
        newEvent({ type: "b", id: "b2" }),
      ]);
      await engine().cursors.putSubscription({ ...config, filter: { exact: { type: "b" } } });
      // b1 was passed over (and counted as acked) under the old filter; a1 stays leased.
      expect(idsOf(await leaseNow(engine(), sub))).toEqual(["b2"]);
      await ackAll(engine(), sub, leased);
      expect(await leaseNow(engine(), sub)).toEqual([]);
    });

    it("rejects a lease on an unknown subscription with subscription_not_found", async () => {
      await expectCode(leaseNow(engine(), uniqueName()), "subscription_not_found");
    });
  });
}
