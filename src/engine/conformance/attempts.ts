import { describe, expect, it } from "vitest";
import type { AttemptRecord, Delivery } from "../engine.js";
import { newEvents } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, leaseNow, single, statusesOf } from "./probes.js";
import { createSubscription, setup, useEngine } from "./scope.js";

/** The attempt record a push dispatcher would pass with a settle. */
function record(d: Delivery, status: number | null, error: string | null = null): AttemptRecord {
  const event = JSON.parse(d.record.body) as { id: string };
  return {
    eventId: event.id,
    offset: d.record.offset,
    attempt: d.attempt,
    at: 1_700_000_000_000 + d.attempt,
    status,
    latencyMs: 12,
    error,
    response: status === null ? null : `answer ${status}`,
  };
}

export function attemptTests(harness: EngineHarness): void {
  describe("attempt log", () => {
    const engine = useEngine(harness);

    it("stores the records passed with ack, nack and reject, newest first, as given", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const c = engine().cursors;
      const first = single(await leaseNow(engine(), sub));
      await c.nack(sub, [first.ackId], 0, [record(first, 503, "HTTP 503")]);
      const second = single(await leaseNow(engine(), sub));
      await c.ack(sub, [second.ackId], [record(second, 204)]);
      const log = await c.attempts(sub, { limit: 10 });
      expect(log).toEqual([record(second, 204), record(first, 503, "HTTP 503")]);
    });

    it("records with reject too, and filters by event id with a limit", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(3));
      const c = engine().cursors;
      const [a, b, x] = await leaseNow(engine(), sub, { max: 3 });
      if (a === undefined || b === undefined || x === undefined) throw new Error("3 expected");
      expect(statusesOf(await c.reject(sub, [a.ackId], "gone", [record(a, 422)]))).toEqual(["ok"]);
      await c.ack(sub, [b.ackId, x.ackId], [record(b, 200), record(x, 200)]);
      const onlyA = await c.attempts(sub, { eventId: record(a, 0).eventId, limit: 10 });
      expect(onlyA).toEqual([record(a, 422)]);
      expect(await c.attempts(sub, { limit: 2 })).toHaveLength(2);
    });

    it("writes the records even when the settle finds nothing to settle", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const c = engine().cursors;
      const d = single(await leaseNow(engine(), sub));
      await c.ack(sub, [d.ackId]);
      expect(statusesOf(await c.ack(sub, [d.ackId], [record(d, 204)]))).toEqual(["unknown"]);
      expect(await c.attempts(sub, { limit: 10 })).toEqual([record(d, 204)]);
    });

    it("keeps at least the newest 1,000 per subscription, and drops the log with it", async () => {
      const { topic, sub } = await setup(engine());
      await engine().log.append(topic, newEvents(1));
      const c = engine().cursors;
      const d = single(await leaseNow(engine(), sub));
      const many = Array.from({ length: 1_000 }, (_, i) => ({ ...record(d, 500), latencyMs: i }));
      await c.nack(sub, [d.ackId], 0, many);
      const log = await c.attempts(sub, { limit: 1_000 });
      expect(log).toHaveLength(1_000);
      expect(log[0]?.latencyMs).toBe(999);
      await c.deleteSubscription(sub);
      await expectCode(c.attempts(sub, { limit: 1 }), "subscription_not_found");
      await createSubscription(engine(), topic, { name: sub });
      expect(await c.attempts(sub, { limit: 10 })).toEqual([]);
    });
  });
}
