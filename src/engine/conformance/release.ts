import { describe, expect, it } from "vitest";
import { newEvents, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import {
  idsOf,
  LONG_LEASE_MS,
  leaseNow,
  leaseUntil,
  readAll,
  SHORT_LEASE_MS,
  single,
  statusesOf,
} from "./probes.js";
import { setup, useEngine } from "./scope.js";

/** `release`: a delivery no client received goes back without using an attempt. */
export function releaseTests(harness: EngineHarness): void {
  describe("release", () => {
    const engine = useEngine(harness);

    it("returns the delivery at once with the same attempt; its ackId is then unknown", async () => {
      const { topic, sub } = await setup(engine(), { sub: { ackTimeoutMs: LONG_LEASE_MS } });
      await engine().log.append(topic, newEvents(1));
      const c = engine().cursors;
      const first = single(await leaseNow(engine(), sub));
      expect(first.attempt).toBe(1);
      expect(statusesOf(await c.release(sub, [first.ackId]))).toEqual(["ok"]);
      expect((await c.stats(sub)).inFlight).toBe(0);
      expect(statusesOf(await c.ack(sub, [first.ackId]))).toEqual(["unknown"]);
      const again = single(await leaseNow(engine(), sub));
      expect(again.record.offset).toBe(first.record.offset);
      expect(again.attempt).toBe(1);
      expect(statusesOf(await c.ack(sub, [again.ackId]))).toEqual(["ok"]);
      expect(await leaseNow(engine(), sub)).toEqual([]);
    });

    it("never counts toward maxAttempts, and keeps a redelivery's attempt", async () => {
      const { topic, sub, dlq } = await setup(engine(), {
        sub: { maxAttempts: 2, ackTimeoutMs: LONG_LEASE_MS },
      });
      await engine().log.append(topic, newEvents(1));
      const c = engine().cursors;
      for (let i = 0; i < 5; i++) {
        const d = single(await leaseNow(engine(), sub));
        expect(d.attempt).toBe(1);
        expect(statusesOf(await c.release(sub, [d.ackId]))).toEqual(["ok"]);
      }
      const real = single(await leaseNow(engine(), sub));
      expect(real.attempt).toBe(1);
      expect(statusesOf(await c.nack(sub, [real.ackId], 0))).toEqual(["ok"]);
      const second = single(await leaseUntil(engine(), sub, 1));
      expect(second.attempt).toBe(2);
      let current = second;
      for (let i = 0; i < 3; i++) {
        expect(statusesOf(await c.release(sub, [current.ackId]))).toEqual(["ok"]);
        expect(statusesOf(await c.release(sub, [current.ackId]))).toEqual(["unknown"]);
        current = single(await leaseNow(engine(), sub));
        expect(current.attempt).toBe(2);
      }
      // The last real attempt is used up: a nack dead-letters it.
      expect(statusesOf(await c.nack(sub, [current.ackId], 0))).toEqual(["ok"]);
      expect(await readAll(engine(), dlq)).toHaveLength(1);
      expect(await leaseNow(engine(), sub)).toEqual([]);
    });

    it("keeps key order: a released event goes out before later events of its key", async () => {
      const { topic, sub } = await setup(engine(), {
        sub: { ordering: "key", ackTimeoutMs: LONG_LEASE_MS },
      });
      const events = [
        ...newEvents(2, uniqueName("k"), { key: "k" }),
        ...newEvents(1, uniqueName("o"), { key: "other" }),
      ];
      await engine().log.append(topic, events);
      const c = engine().cursors;
      const firstLease = await leaseNow(engine(), sub, { max: 10 });
      expect(idsOf(firstLease)).toEqual([events[0]?.id, events[2]?.id]);
      const k = firstLease.find((d) => d.record.key === "k");
      if (k === undefined) throw new Error("a delivery of key k expected");
      await c.release(sub, [k.ackId]);
      const next = single(await leaseNow(engine(), sub, { max: 10 }));
      expect(next.record.offset).toBe(k.record.offset);
      expect(next.attempt).toBe(1);
      // Still only one of key k in flight.
      expect(await leaseNow(engine(), sub, { max: 10 })).toEqual([]);
      await c.ack(sub, [next.ackId]);
      expect(idsOf(await leaseNow(engine(), sub, { max: 10 }))).toEqual([events[1]?.id]);
    });

    it("is harmless for settled, superseded, unknown and repeated ackIds", async () => {
      const { topic, sub } = await setup(engine(), { sub: { ackTimeoutMs: SHORT_LEASE_MS } });
      await engine().log.append(topic, newEvents(2));
      const c = engine().cursors;
      const [a, b] = await leaseNow(engine(), sub, { max: 2 });
      if (a === undefined || b === undefined) throw new Error("2 deliveries expected");
      await c.ack(sub, [a.ackId]);
      // b's lease runs out and it is redelivered: its first ackId is superseded.
      const b2 = single(await leaseUntil(engine(), sub, 1));
      expect(b2.attempt).toBe(2);
      const never = b2.ackId.replace(/^[0-9a-z]+/, (epoch) =>
        (Number.parseInt(epoch, 36) + 5).toString(36),
      );
      const results = await c.release(sub, [a.ackId, b.ackId, never]);
      expect(statusesOf(results)).toEqual(["unknown", "expired", "unknown"]);
      expect(statusesOf(await c.ack(sub, [b2.ackId]))).toEqual(["ok"]);
      expect(await leaseNow(engine(), sub)).toEqual([]);
    });

    it("does not inflate delivered: stats count what clients received", async () => {
      const { topic, sub } = await setup(engine(), { sub: { ackTimeoutMs: LONG_LEASE_MS } });
      await engine().log.append(topic, newEvents(2));
      const c = engine().cursors;
      const both = await leaseNow(engine(), sub, { max: 2 });
      await c.release(
        sub,
        both.map((d) => d.ackId),
      );
      await c.release(
        sub,
        both.map((d) => d.ackId),
      );
      const again = await leaseNow(engine(), sub, { max: 2 });
      expect(again.map((d) => d.attempt)).toEqual([1, 1]);
      expect(await c.stats(sub)).toMatchObject({ delivered: 2, inFlight: 2, acked: 0 });
      await c.ack(
        sub,
        again.map((d) => d.ackId),
      );
      expect(await c.stats(sub)).toMatchObject({ delivered: 2, inFlight: 0, acked: 2, lag: 0 });
    });
  });
}
