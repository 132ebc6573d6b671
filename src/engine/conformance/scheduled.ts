/**
 * Scheduled events (`Engine.scheduled`, API.md "Scheduled events"): pending events are
 * stored apart from the log, listed in due order with paging, cancelled, fired exactly once
 * (a repeated or concurrent firing appends nothing more), and kept across a reopen.
 */
import { describe, expect, it } from "vitest";
import type { Engine, PendingEvent } from "../engine.js";
import { eventOf, newEvent } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, idsOf, readAll } from "./probes.js";
import { createTopic, useEngine } from "./scope.js";

/** A pending event due at `deliverAt`, its body carrying `deliverat` as the broker writes it. */
function pending(deliverAt: number, id?: string, source?: string): PendingEvent {
  const extensions = { deliverat: new Date(deliverAt).toISOString() };
  return {
    event: newEvent({
      ...(id === undefined ? {} : { id }),
      ...(source === undefined ? {} : { source }),
      extensions,
    }),
    deliverAt,
  };
}

async function listAll(engine: Engine, topic: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await engine.scheduled.list(topic, limit, after);
    expect(page.records.length).toBeLessThanOrEqual(limit);
    ids.push(...page.records.map((r) => r.id));
    if (page.next === null) return ids;
    after = page.next;
  }
  throw new Error("the list never ended");
}

export function scheduledTests(harness: EngineHarness): void {
  describe("scheduled events", () => {
    const engine = useEngine(harness);
    const base = Date.UTC(2030, 0, 1);

    it("accepts pending events apart from the log and lists them in due order, paged", async () => {
      const topic = await createTopic(engine());
      const times = [5, 1, 4, 2, 3].map((n) => base + n * 1_000);
      const results = await engine().scheduled.schedule(
        topic,
        times.map((t, i) => pending(t, `s${i}`)),
      );
      expect(results).toEqual(times.map((deliverAt) => ({ deliverAt, duplicate: false })));
      expect((await engine().log.stats(topic)).events).toBe(0);
      expect(await listAll(engine(), topic, 2)).toEqual(["s1", "s3", "s4", "s2", "s0"]);
      const first = await engine().scheduled.list(topic, 10, null);
      expect(first.next).toBeNull();
      const record = first.records[0];
      expect(record).toMatchObject({ id: "s1", source: "/conformance", deliverAt: times[1] });
      expect(JSON.parse(record?.body ?? "{}").deliverat).toBe(
        new Date(times[1] ?? 0).toISOString(),
      );
      expect((await engine().scheduled.due()).get(topic)).toBe(times[1]);
    });

    it("answers a repeat of a pending event as a duplicate with its original time", async () => {
      const topic = await createTopic(engine(), { dedupeWindowMs: 0 });
      await engine().scheduled.schedule(topic, [pending(base + 1_000, "dup")]);
      const again = await engine().scheduled.schedule(topic, [
        pending(base + 9_000, "dup"),
        pending(base + 2_000, "other"),
        pending(base + 3_000, "other"),
      ]);
      expect(again).toEqual([
        { deliverAt: base + 1_000, duplicate: true },
        { deliverAt: base + 2_000, duplicate: false },
        { deliverAt: base + 2_000, duplicate: true },
      ]);
      expect(await listAll(engine(), topic, 10)).toEqual(["dup", "other"]);
    });

    it("rejects an unknown topic", async () => {
      await expectCode(
        engine().scheduled.schedule("no-such-topic-x", [pending(base)]),
        "topic_not_found",
      );
    });

    it("cancels by id, by id and source, and tells an ambiguous id apart", async () => {
      const topic = await createTopic(engine());
      await engine().scheduled.schedule(topic, [
        pending(base + 1_000, "a", "/one"),
        pending(base + 2_000, "b", "/one"),
        pending(base + 3_000, "b", "/two"),
      ]);
      expect(await engine().scheduled.cancel(topic, "a", null)).toBe("cancelled");
      expect(await engine().scheduled.cancel(topic, "a", null)).toBe("not_found");
      expect(await engine().scheduled.cancel(topic, "b", null)).toBe("ambiguous");
      expect(await engine().scheduled.cancel(topic, "b", "/three")).toBe("not_found");
      expect(await engine().scheduled.cancel(topic, "b", "/two")).toBe("cancelled");
      expect(await engine().scheduled.cancel(topic, "b", null)).toBe("cancelled");
      expect(await listAll(engine(), topic, 10)).toEqual([]);
      expect((await engine().scheduled.due()).has(topic)).toBe(false);
    });

    it("fires due events once, in due order, with deliverat kept; a repeated firing appends nothing", async () => {
      const topic = await createTopic(engine(), { dedupeWindowMs: 0 });
      await engine().scheduled.schedule(topic, [
        pending(base + 2_000, "late"),
        pending(base + 1_000, "early"),
        pending(base + 9_000, "future"),
      ]);
      const fired = await Promise.all([
        engine().scheduled.fire(topic, base + 5_000, 100),
        engine().scheduled.fire(topic, base + 5_000, 100),
      ]);
      expect(fired[0].fired + fired[1].fired).toBe(2);
      expect(await engine().scheduled.fire(topic, base + 5_000, 100)).toEqual({
        fired: 0,
        next: base + 9_000,
      });
      const records = await readAll(engine(), topic);
      expect(idsOf(records)).toEqual(["early", "late"]);
      expect(records[0] && eventOf(records[0]).deliverat).toBe(
        new Date(base + 1_000).toISOString(),
      );
      expect(await engine().scheduled.cancel(topic, "early", null)).toBe("not_found");
      expect(await listAll(engine(), topic, 10)).toEqual(["future"]);
      expect((await engine().scheduled.due()).get(topic)).toBe(base + 9_000);
    });

    it("fires skipping the dedupe window: an event appended before with the same id is appended again", async () => {
      const topic = await createTopic(engine(), { dedupeWindowMs: 600_000 });
      await engine().log.append(topic, [newEvent({ id: "same" })]);
      await engine().scheduled.schedule(topic, [pending(base, "same")]);
      expect(await engine().scheduled.fire(topic, base, 10)).toEqual({ fired: 1, next: null });
      expect(idsOf(await readAll(engine(), topic))).toEqual(["same", "same"]);
    });

    it("fires at most `limit` events per call", async () => {
      const topic = await createTopic(engine());
      await engine().scheduled.schedule(
        topic,
        [1, 2, 3].map((n) => pending(base + n, `l${n}`)),
      );
      expect(await engine().scheduled.fire(topic, base + 10, 2)).toEqual({
        fired: 2,
        next: base + 3,
      });
      expect(await engine().scheduled.fire(topic, base + 10, 2)).toEqual({ fired: 1, next: null });
      expect(idsOf(await readAll(engine(), topic))).toEqual(["l1", "l2", "l3"]);
    });

    it("drops a topic's pending events with the topic", async () => {
      const topic = await createTopic(engine());
      await engine().scheduled.schedule(topic, [pending(base, "gone")]);
      expect(await engine().log.deleteTopic(topic)).toBe(true);
      expect((await engine().scheduled.due()).has(topic)).toBe(false);
      await createTopic(engine(), { name: topic });
      expect(await listAll(engine(), topic, 10)).toEqual([]);
      expect((await engine().scheduled.fire(topic, base + 1, 10)).fired).toBe(0);
    });

    if (harness.peer !== undefined) {
      const openPeer = harness.peer.bind(harness);
      it("another node sees pending events and two nodes firing at once append each event once", async () => {
        const peer = await openPeer(engine());
        try {
          const topic = await createTopic(engine(), { dedupeWindowMs: 0 });
          await engine().scheduled.schedule(topic, [pending(base, "p1"), pending(base + 1, "p2")]);
          expect(await listAll(peer, topic, 10)).toEqual(["p1", "p2"]);
          expect(await peer.scheduled.schedule(topic, [pending(base + 5, "p1")])).toEqual([
            { deliverAt: base, duplicate: true },
          ]);
          const fired = await Promise.all([
            engine().scheduled.fire(topic, base + 10, 10),
            peer.scheduled.fire(topic, base + 10, 10),
          ]);
          expect(fired[0].fired + fired[1].fired).toBe(2);
          // Once each; their order is the broker's to keep (one node fires a topic).
          expect(idsOf(await readAll(engine(), topic)).sort()).toEqual(["p1", "p2"]);
        } finally {
          await peer.close();
        }
      });
    }

    it("keeps pending events across a reopen", async () => {
      let current = await harness.open();
      try {
        const topic = await createTopic(current);
        await current.scheduled.schedule(topic, [pending(base + 1, "k1"), pending(base + 2, "k2")]);
        current = await harness.reopen(current, "kill");
        expect(await listAll(current, topic, 10)).toEqual(["k1", "k2"]);
        expect(await current.scheduled.fire(topic, base + 1, 10)).toEqual({
          fired: 1,
          next: base + 2,
        });
        current = await harness.reopen(current, "close");
        expect(await listAll(current, topic, 10)).toEqual(["k2"]);
        expect(idsOf(await readAll(current, topic))).toEqual(["k1"]);
      } finally {
        await current.close();
      }
    });
  });
}
