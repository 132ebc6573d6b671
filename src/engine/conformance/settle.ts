import { describe, expect, it } from "vitest";
import { decodeAckId, encodeAckId } from "../../core/ack-id.js";
import { newEvents, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import {
  elapse,
  expectCode,
  LONG_LEASE_MS,
  leaseNow,
  leaseUntil,
  offsetsOf,
  SHORT_LEASE_MS,
  single,
  statusesOf,
} from "./probes.js";
import { setup, useEngine } from "./scope.js";

/** How long a negative check waits: two short leases. */
const QUIET_MS = 2 * SHORT_LEASE_MS;
const NACK_DELAY_MS = 1_500;
/** With full jitter a one-day backoff redelivers within QUIET_MS with p ≈ 7e-6. */
const ONE_DAY_MS = 86_400_000;

export function settleTests(harness: EngineHarness): void {
  describe("settle", () => {
    const engine = useEngine(harness);

    it("issues ackIds that core/ack-id.ts can decode, naming the event's offset", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(2));
      for (const d of await leaseNow(engine(), sub))
        expect(decodeAckId(d.ackId)?.offset).toBe(d.record.offset);
    });

    it("makes an ack final: the delivery is never handed out again", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const d = single(await leaseNow(engine(), sub, { leaseMs: SHORT_LEASE_MS }));
      // The append time rides along for the append → ack latency metric.
      expect(await engine().cursors.ack(sub, [d.ackId])).toEqual([
        { ackId: d.ackId, status: "ok", appendedAt: d.record.appendedAt },
      ]);
      await elapse(QUIET_MS);
      expect(await leaseNow(engine(), sub)).toEqual([]);
    });

    it("answers each ackId in input order: ok, then unknown once settled, expired once superseded", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(2));
      const [a, b] = await leaseNow(engine(), sub, { leaseMs: SHORT_LEASE_MS });
      if (a === undefined || b === undefined) throw new Error("two deliveries expected");
      expect(statusesOf(await engine().cursors.ack(sub, [a.ackId]))).toEqual(["ok"]);
      const bAgain = single(await leaseUntil(engine(), sub, 1, { leaseMs: LONG_LEASE_MS }));
      expect(bAgain.record.offset).toBe(b.record.offset);
      const results = await engine().cursors.ack(sub, [a.ackId, b.ackId, bAgain.ackId]);
      expect(results).toEqual([
        { ackId: a.ackId, status: "unknown" },
        { ackId: b.ackId, status: "expired" },
        { ackId: bAgain.ackId, status: "ok", appendedAt: bAgain.record.appendedAt },
      ]);
    });

    it("answers expired for every settle of a superseded ackId, and settles nothing", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const old = single(await leaseNow(engine(), sub, { leaseMs: SHORT_LEASE_MS }));
      const current = single(await leaseUntil(engine(), sub, 1, { leaseMs: LONG_LEASE_MS }));
      const c = engine().cursors;
      expect(statusesOf(await c.nack(sub, [old.ackId], 0))).toEqual(["expired"]);
      expect(statusesOf(await c.extend(sub, [old.ackId]))).toEqual(["expired"]);
      expect(statusesOf(await c.reject(sub, [old.ackId], "nope"))).toEqual(["expired"]);
      expect(statusesOf(await c.ack(sub, [old.ackId]))).toEqual(["expired"]);
      expect(statusesOf(await c.ack(sub, [current.ackId]))).toEqual(["ok"]);
    });

    it("accepts a late ack while the expired lease has not been handed out again", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const d = single(await leaseNow(engine(), sub, { leaseMs: SHORT_LEASE_MS }));
      await elapse(QUIET_MS);
      expect(statusesOf(await engine().cursors.ack(sub, [d.ackId]))).toEqual(["ok"]);
      expect(await leaseNow(engine(), sub)).toEqual([]);
    });

    it("answers unknown for a well-formed ackId that was never issued", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(2));
      const d = single(await leaseNow(engine(), sub, { max: 1, leaseMs: LONG_LEASE_MS }));
      const parts = decodeAckId(d.ackId);
      if (parts === null) throw new Error(`undecodable ackId ${d.ackId}`);
      const neverLeased = encodeAckId({ ...parts, offset: 2 });
      const pastTheEnd = encodeAckId({ ...parts, offset: 1_000_000 });
      const results = await engine().cursors.ack(sub, [neverLeased, pastTheEnd]);
      expect(statusesOf(results)).toEqual(["unknown", "unknown"]);
      expect(offsetsOf(await leaseNow(engine(), sub))).toEqual([2]);
      expect(statusesOf(await engine().cursors.ack(sub, [d.ackId]))).toEqual(["ok"]);
    });

    it("answers unknown to nack, extend and reject of an acked delivery", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const d = single(await leaseNow(engine(), sub));
      await engine().cursors.ack(sub, [d.ackId]);
      const c = engine().cursors;
      expect(statusesOf(await c.nack(sub, [d.ackId], 0))).toEqual(["unknown"]);
      expect(statusesOf(await c.extend(sub, [d.ackId]))).toEqual(["unknown"]);
      expect(statusesOf(await c.reject(sub, [d.ackId], "late"))).toEqual(["unknown"]);
    });

    it("redelivers a nack with delayMs after the delay and not before, attempt + 1", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const d = single(await leaseNow(engine(), sub, { leaseMs: LONG_LEASE_MS }));
      const nacked = Date.now();
      expect(statusesOf(await engine().cursors.nack(sub, [d.ackId], NACK_DELAY_MS))).toEqual([
        "ok",
      ]);
      expect(await leaseNow(engine(), sub)).toEqual([]);
      const again = single(await leaseUntil(engine(), sub, 1));
      expect(Date.now() - nacked).toBeGreaterThanOrEqual(NACK_DELAY_MS);
      expect([again.attempt, again.record.offset]).toEqual([2, d.record.offset]);
    });

    it("redelivers a nack with delayMs 0 on the next lease", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const d = single(await leaseNow(engine(), sub, { leaseMs: LONG_LEASE_MS }));
      await engine().cursors.nack(sub, [d.ackId], 0);
      expect(single(await leaseNow(engine(), sub)).attempt).toBe(2);
    });

    it("waits the subscription's backoff after a nack without delay", async () => {
      const quick = await setup(engine(), {
        sub: { backoff: { initialMs: 200, maxMs: 200, multiplier: 1 } },
      });
      const slow = await setup(engine(), {
        sub: { backoff: { initialMs: ONE_DAY_MS, maxMs: ONE_DAY_MS, multiplier: 1 } },
      });
      for (const s of [quick, slow]) {
        await engine().log.append(s.topic, newEvents(1));
        const d = single(await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS }));
        expect(statusesOf(await engine().cursors.nack(s.sub, [d.ackId], null))).toEqual(["ok"]);
      }
      expect(single(await leaseUntil(engine(), quick.sub, 1)).attempt).toBe(2);
      await elapse(QUIET_MS);
      expect(await leaseNow(engine(), slow.sub)).toEqual([]);
    });

    it("keeps an extended lease alive past its original expiry", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const d = single(await leaseNow(engine(), sub, { leaseMs: SHORT_LEASE_MS }));
      expect(statusesOf(await engine().cursors.extend(sub, [d.ackId], LONG_LEASE_MS))).toEqual([
        "ok",
      ]);
      await elapse(QUIET_MS);
      expect(await leaseNow(engine(), sub)).toEqual([]);
      expect(statusesOf(await engine().cursors.ack(sub, [d.ackId]))).toEqual(["ok"]);
    });

    it("extends by the subscription's ackTimeoutMs when no leaseMs is given", async () => {
      const { topic, sub } = await setup(engine(), { sub: { ackTimeoutMs: LONG_LEASE_MS } });
      await engine().log.append(topic, newEvents(1));
      const d = single(await leaseNow(engine(), sub, { leaseMs: SHORT_LEASE_MS }));
      await engine().cursors.extend(sub, [d.ackId]);
      await elapse(QUIET_MS);
      expect(await leaseNow(engine(), sub)).toEqual([]);
      expect(statusesOf(await engine().cursors.ack(sub, [d.ackId]))).toEqual(["ok"]);
    });

    it("lets a short extension expire: the event is redelivered", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const d = single(await leaseNow(engine(), sub, { leaseMs: LONG_LEASE_MS }));
      await engine().cursors.extend(sub, [d.ackId], SHORT_LEASE_MS);
      expect(single(await leaseUntil(engine(), sub, 1)).attempt).toBe(2);
    });

    it("rejects settling on an unknown subscription with subscription_not_found", async () => {
      const ackId = encodeAckId({ epoch: 0, offset: 1, lease: 1 });
      const name = uniqueName();
      await expectCode(engine().cursors.ack(name, [ackId]), "subscription_not_found");
      await expectCode(engine().cursors.nack(name, [ackId], null), "subscription_not_found");
      await expectCode(engine().cursors.extend(name, [ackId]), "subscription_not_found");
      await expectCode(engine().cursors.reject(name, [ackId], "x"), "subscription_not_found");
    });
  });
}
