import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import type { Delivery, Engine } from "../engine.js";
import { eventOf, newEvent } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import {
  ackAll,
  idsOf,
  LONG_LEASE_MS,
  leaseNow,
  leaseUntil,
  POSITIVE_MS,
  readAll,
  SHORT_LEASE_MS,
  single,
} from "./probes.js";
import { setup, useEngine } from "./scope.js";

const NACK_DELAY_MS = 1_500;

/** Events `{key}{n}` with partition key `key`, in the order given ("a1", "b1", "a2", …). */
function keyed(...ids: string[]) {
  return ids.map((id) => newEvent({ id, key: id.replace(/\d+$/, "") || null }));
}

function byId(deliveries: readonly Delivery[], id: string): Delivery {
  const found = deliveries.find((d) => eventOf(d.record).id === id);
  if (found === undefined) throw new Error(`no delivery of ${id} in ${idsOf(deliveries)}`);
  return found;
}

/** A small deterministic PRNG (mulberry32), so the randomized run is the same every time. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function keyOrdered(engine: Engine, overrides = {}) {
  return setup(engine, { sub: { ordering: "key", ...overrides } });
}

export function orderingTests(harness: EngineHarness): void {
  describe("ordering", () => {
    const engine = useEngine(harness);

    it("under key ordering never has two events of one key in flight; keys flow in parallel", async () => {
      const s = await keyOrdered(engine());
      await engine().log.append(s.topic, keyed("a1", "b1", "a2", "b2", "a3"));
      const first = await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS });
      expect(idsOf(first)).toEqual(["a1", "b1"]);
      expect(await leaseNow(engine(), s.sub)).toEqual([]);
      await ackAll(engine(), s.sub, [byId(first, "a1")]);
      const second = await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS });
      expect(idsOf(second)).toEqual(["a2"]);
      await ackAll(engine(), s.sub, [byId(first, "b1")]);
      expect(idsOf(await leaseNow(engine(), s.sub))).toEqual(["b2"]);
    });

    it("under key ordering lets events without a key flow freely", async () => {
      const s = await keyOrdered(engine());
      await engine().log.append(s.topic, [
        ...keyed("x1", "x2"),
        newEvent({ id: "n1" }),
        newEvent({ id: "n2" }),
      ]);
      expect(idsOf(await leaseNow(engine(), s.sub))).toEqual(["x1", "n1", "n2"]);
    });

    it("under key ordering redelivers an expired lease before the key's next event", async () => {
      const s = await keyOrdered(engine());
      await engine().log.append(s.topic, keyed("a1", "a2"));
      await leaseNow(engine(), s.sub, { leaseMs: SHORT_LEASE_MS });
      const again = single(await leaseUntil(engine(), s.sub, 1, { leaseMs: LONG_LEASE_MS }));
      expect([eventOf(again.record).id, again.attempt]).toEqual(["a1", 2]);
    });

    it("holds back only the nacked key's later events during a nack delay", async () => {
      const s = await keyOrdered(engine());
      await engine().log.append(s.topic, keyed("a1", "a2", "b1", "b2"));
      const first = await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS });
      expect(idsOf(first)).toEqual(["a1", "b1"]);
      await engine().cursors.nack(s.sub, [byId(first, "a1").ackId], NACK_DELAY_MS);
      await ackAll(engine(), s.sub, [byId(first, "b1")]);
      const b2 = await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS });
      expect(idsOf(b2)).toEqual(["b2"]);
      const seen: Delivery[] = [];
      await eventually(
        async () => {
          seen.push(...(await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS })));
          expect(seen.length).toBeGreaterThan(0);
        },
        { timeoutMs: NACK_DELAY_MS + POSITIVE_MS },
      );
      expect(seen.map((d) => [eventOf(d.record).id, d.attempt])).toEqual([["a1", 2]]);
      await ackAll(engine(), s.sub, seen);
      expect(idsOf(await leaseNow(engine(), s.sub))).toEqual(["a2"]);
    });

    it("dead-letters an event that exhausts its attempts with its key kept, and the key moves on", async () => {
      const s = await keyOrdered(engine(), { maxAttempts: 1 });
      await engine().log.append(s.topic, keyed("a1", "a2"));
      const a1 = single(await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS }));
      await engine().cursors.nack(s.sub, [a1.ackId], 0);
      const next = single(await leaseUntil(engine(), s.sub, 1));
      expect([eventOf(next.record).id, next.attempt]).toEqual(["a2", 1]);
      const copy = single(await readAll(engine(), s.dlq));
      expect([eventOf(copy).id, copy.key, eventOf(copy).partitionkey]).toEqual(["a1", "a", "a"]);
    });

    it("releases a key when its in-flight event is rejected", async () => {
      const s = await keyOrdered(engine());
      await engine().log.append(s.topic, keyed("a1", "a2"));
      const a1 = single(await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS }));
      await engine().cursors.reject(s.sub, [a1.ackId], "poison");
      expect(idsOf(await leaseNow(engine(), s.sub))).toEqual(["a2"]);
    });

    it("without key ordering hands out one key's events together; a nack delay blocks nothing", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, keyed("a1", "a2", "a3", "a4"));
      const a1 = single(await leaseNow(engine(), s.sub, { max: 1, leaseMs: LONG_LEASE_MS }));
      await engine().cursors.nack(s.sub, [a1.ackId], LONG_LEASE_MS);
      expect(idsOf(await leaseNow(engine(), s.sub))).toEqual(["a2", "a3", "a4"]);
    });

    it("keeps per-key order through a seeded run of random leases, acks and nacks", async () => {
      const s = await keyOrdered(engine());
      const keys = ["k", "l", "m", "n"];
      const ids = Array.from({ length: 8 }, (_, i) => keys.map((k) => `${k}${i + 1}`)).flat();
      await engine().log.append(s.topic, keyed(...ids));
      const random = prng(42);
      const inFlight = new Map<string, Delivery>();
      const acked: string[] = [];
      for (let round = 0; acked.length < ids.length && round < 500; round++) {
        const max = 1 + Math.floor(random() * 5);
        for (const d of await leaseNow(engine(), s.sub, { max, leaseMs: LONG_LEASE_MS })) {
          const key = d.record.key ?? "";
          expect(inFlight.has(key), `two of key ${key} in flight`).toBe(false);
          inFlight.set(key, d);
        }
        for (const [key, d] of [...inFlight]) {
          const roll = random();
          if (roll < 0.4) continue;
          inFlight.delete(key);
          if (roll < 0.55) await engine().cursors.nack(s.sub, [d.ackId], 0);
          else {
            await ackAll(engine(), s.sub, [d]);
            acked.push(eventOf(d.record).id);
          }
        }
      }
      expect([...acked].sort()).toEqual([...ids].sort());
      for (const k of keys)
        expect(acked.filter((id) => id.startsWith(k))).toEqual(
          ids.filter((id) => id.startsWith(k)),
        );
    });
  });
}
