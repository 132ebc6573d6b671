import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { newEvent, newEvents, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import {
  ackAll,
  expectCode,
  idsOf,
  LONG_LEASE_MS,
  leaseNow,
  leaseUntil,
  offsetsOf,
  readAll,
  SHORT_LEASE_MS,
  statusesOf,
} from "./probes.js";
import { createSubscription, setup, useEngine } from "./scope.js";

const ONE_DAY_MS = 86_400_000;

export function seekTests(harness: EngineHarness): void {
  describe("seek", () => {
    const engine = useEngine(harness);

    it("to earliest hands everything out again with attempt 1", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(3));
      await ackAll(engine(), s.sub, await leaseNow(engine(), s.sub));
      expect(await engine().cursors.seek(s.sub, "earliest")).toBe(1);
      const again = await leaseNow(engine(), s.sub);
      expect(offsetsOf(again)).toEqual([1, 2, 3]);
      expect(again.map((d) => d.attempt)).toEqual([1, 1, 1]);
    });

    it("to latest skips everything appended so far", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(3));
      expect(await engine().cursors.seek(s.sub, "latest")).toBe(4);
      expect(await leaseNow(engine(), s.sub)).toEqual([]);
      expect((await engine().cursors.stats(s.sub)).lag).toBe(0);
      await engine().log.append(s.topic, newEvents(1));
      expect(offsetsOf(await leaseNow(engine(), s.sub))).toEqual([4]);
    });

    it("to an offset: events before it count as acked", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(5));
      expect(await engine().cursors.seek(s.sub, { offset: 3 })).toBe(3);
      const stats = await engine().cursors.stats(s.sub);
      expect([stats.position, stats.lag]).toEqual([3, 3]);
      expect(offsetsOf(await leaseNow(engine(), s.sub))).toEqual([3, 4, 5]);
    });

    it("to offset 0 lands on the first event", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(2));
      await ackAll(engine(), s.sub, await leaseNow(engine(), s.sub));
      expect(await engine().cursors.seek(s.sub, { offset: 0 })).toBe(1);
      expect(offsetsOf(await leaseNow(engine(), s.sub))).toEqual([1, 2]);
    });

    it("to a time lands on the first event appended at or after it", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(2));
      const last = (await readAll(engine(), s.topic)).at(-1)?.appendedAt ?? 0;
      await eventually(() => expect(Date.now()).toBeGreaterThan(last + 1));
      await engine().log.append(s.topic, newEvents(2));
      const third = (await readAll(engine(), s.topic))[2];
      if (third === undefined || third.appendedAt <= last)
        throw new Error("append times must differ");
      const to = { time: new Date(third.appendedAt).toISOString() };
      expect(await engine().cursors.seek(s.sub, to)).toBe(3);
      expect(offsetsOf(await leaseNow(engine(), s.sub))).toEqual([3, 4]);
    });

    it("moves one subscription only; its outstanding ackIds become expired", async () => {
      const s = await setup(engine());
      const other = await createSubscription(engine(), s.topic, { start: "earliest" });
      await engine().log.append(s.topic, newEvents(3));
      const mine = await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS });
      const theirs = await leaseNow(engine(), other.name, { leaseMs: LONG_LEASE_MS });
      await engine().cursors.seek(s.sub, "earliest");
      const mineAfter = await engine().cursors.ack(
        s.sub,
        mine.map((d) => d.ackId),
      );
      expect(statusesOf(mineAfter)).toEqual(["expired", "expired", "expired"]);
      expect(await leaseNow(engine(), other.name)).toEqual([]);
      await ackAll(engine(), other.name, theirs);
      expect(offsetsOf(await leaseNow(engine(), s.sub))).toEqual([1, 2, 3]);
    });

    it("resets attempt counts", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(1));
      await leaseNow(engine(), s.sub, { leaseMs: SHORT_LEASE_MS });
      const [second] = await leaseUntil(engine(), s.sub, 1, { leaseMs: LONG_LEASE_MS });
      expect(second?.attempt).toBe(2);
      await engine().cursors.seek(s.sub, { offset: 1 });
      expect((await leaseNow(engine(), s.sub)).map((d) => d.attempt)).toEqual([1]);
    });

    it("clears pending nack delays", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(1));
      const [d] = await leaseNow(engine(), s.sub);
      await engine().cursors.nack(s.sub, [d?.ackId ?? ""], ONE_DAY_MS);
      expect(await leaseNow(engine(), s.sub)).toEqual([]);
      await engine().cursors.seek(s.sub, "earliest");
      expect((await leaseNow(engine(), s.sub)).map((x) => x.attempt)).toEqual([1]);
    });

    it("releases keys held by outstanding deliveries under key ordering", async () => {
      const s = await setup(engine(), { sub: { ordering: "key" } });
      await engine().log.append(s.topic, [
        newEvent({ id: "a1", key: "a" }),
        newEvent({ id: "a2", key: "a" }),
      ]);
      expect(idsOf(await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS }))).toEqual(["a1"]);
      await engine().cursors.seek(s.sub, "earliest");
      expect(idsOf(await leaseNow(engine(), s.sub))).toEqual(["a1"]);
    });

    it("rejects a seek of an unknown subscription with subscription_not_found", async () => {
      await expectCode(engine().cursors.seek(uniqueName(), "earliest"), "subscription_not_found");
    });
  });
}
