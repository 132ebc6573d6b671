import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import type { Engine } from "../engine.js";
import { eventOf, newEvent, newEvents } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import {
  ackAll,
  elapse,
  idsOf,
  leaseNow,
  leaseUntil,
  POSITIVE_MS,
  readAll,
  SHORT_LEASE_MS,
  statusesOf,
} from "./probes.js";
import { createSubscription, setup } from "./scope.js";

const IDS = ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"];
/** Acked or dead-lettered before the restart: must never be delivered again. */
const SETTLED = ["r1", "r2", "r6"];
/** Nacked, leased or never delivered before the restart: must all come back. */
const UNSETTLED = ["r3", "r4", "r5", "r7", "r8"];

/** Leases and acks until every id in `wanted` has arrived; returns every id delivered. */
async function drain(engine: Engine, sub: string, wanted: readonly string[]): Promise<string[]> {
  const seen: string[] = [];
  await eventually(
    async () => {
      const deliveries = await leaseNow(engine, sub, { leaseMs: SHORT_LEASE_MS });
      seen.push(...idsOf(deliveries));
      await ackAll(engine, sub, deliveries);
      for (const id of wanted) expect(seen).toContain(id);
    },
    { timeoutMs: POSITIVE_MS },
  );
  await elapse(2 * SHORT_LEASE_MS);
  seen.push(...idsOf(await leaseNow(engine, sub)));
  return seen;
}

/** Puts one subscription's events in every state a delivery can be in. */
async function scatter(engine: Engine) {
  const s = await setup(engine, {
    topic: { dedupeWindowMs: 600_000, retention: { maxEvents: 1_000 } },
    sub: { ackTimeoutMs: SHORT_LEASE_MS, backoff: { initialMs: 100, maxMs: 100, multiplier: 1 } },
  });
  const skipper = await createSubscription(engine, s.topic, { start: "earliest" });
  await engine.log.append(
    s.topic,
    IDS.map((id) => newEvent({ id })),
  );
  const byId = new Map(
    (await leaseNow(engine, s.sub, { max: 6 })).map((d) => [eventOf(d.record).id, d]),
  );
  const ackId = (id: string) => byId.get(id)?.ackId ?? "";
  const c = engine.cursors;
  expect(statusesOf(await c.ack(s.sub, [ackId("r1"), ackId("r2")]))).toEqual(["ok", "ok"]);
  expect(statusesOf(await c.nack(s.sub, [ackId("r3")], 200))).toEqual(["ok"]);
  expect(statusesOf(await c.nack(s.sub, [ackId("r4")], null))).toEqual(["ok"]);
  expect(statusesOf(await c.reject(s.sub, [ackId("r6")], "poison"))).toEqual(["ok"]);
  expect(await c.seek(skipper.name, "latest")).toBe(IDS.length + 1);
  return { ...s, skipper };
}

/** Long enough that a reopen fits well inside it, short enough to wait out in a test. */
const HELD_ACK_TIMEOUT_MS = 1_500;

/**
 * Leased and not settled when the engine went away: after the reopen, nothing of it comes back
 * before the ack timeout of its lease, then it comes back as attempt 2; events acked before
 * never come back; under key ordering the key's next event waits for it.
 */
async function leasedAcrossRestart(harness: EngineHarness, how: "close" | "kill") {
  const before = await harness.open();
  const s = await setup(before, {
    sub: { ordering: "key", ackTimeoutMs: HELD_ACK_TIMEOUT_MS, maxAttempts: 5 },
  });
  const spec = (id: string, key: string) => newEvent({ id, key });
  await before.log.append(s.topic, [
    spec("a1", "A"),
    spec("b1", "B"),
    spec("c1", "C"),
    spec("a2", "A"),
  ]);
  const leasedAt = Date.now();
  const first = await leaseNow(before, s.sub, { max: 10 });
  expect(idsOf(first).sort()).toEqual(["a1", "b1", "c1"]);
  expect(first.map((d) => d.attempt)).toEqual([1, 1, 1]);
  const c1 = first.find((d) => eventOf(d.record).id === "c1");
  expect(statusesOf(await before.cursors.ack(s.sub, [c1?.ackId ?? ""]))).toEqual(["ok"]);
  const after = await harness.reopen(before, how);
  try {
    const early = await leaseNow(after, s.sub, { max: 10 });
    // Only meaningful while the first lease has not run out (a very slow reopen).
    if (Date.now() - leasedAt < HELD_ACK_TIMEOUT_MS) expect(idsOf(early)).toEqual([]);
    const again = [...early, ...(await leaseUntil(after, s.sub, 2 - early.length, { max: 10 }))];
    expect(Date.now() - leasedAt).toBeGreaterThanOrEqual(HELD_ACK_TIMEOUT_MS);
    expect(idsOf(again).sort()).toEqual(["a1", "b1"]);
    expect(again.map((d) => d.attempt)).toEqual([2, 2]);
    await ackAll(after, s.sub, again);
    const next = await leaseUntil(after, s.sub, 1, { max: 10 });
    expect(idsOf(next)).toEqual(["a2"]);
    await ackAll(after, s.sub, next);
    await elapse(2 * SHORT_LEASE_MS);
    expect(await leaseNow(after, s.sub, { max: 10 })).toEqual([]);
  } finally {
    await after.close();
  }
}

export function restartTests(harness: EngineHarness): void {
  describe("restart", () => {
    for (const how of ["close", "kill"] as const) {
      it(`after ${how}: a lease not settled comes back as attempt 2, not before its ack timeout, in key order`, async () => {
        await leasedAcrossRestart(harness, how);
      });

      it(`after ${how}: nothing settled comes back, every unsettled event does, state survives`, async () => {
        const before = await harness.open();
        const s = await scatter(before);
        const snapshot = {
          topic: await before.log.getTopic(s.topic),
          sub: await before.cursors.getSubscription(s.sub),
          records: await readAll(before, s.topic),
        };
        const after = await harness.reopen(before, how);
        try {
          expect(await after.log.getTopic(s.topic)).toEqual(snapshot.topic);
          expect(await after.cursors.getSubscription(s.sub)).toEqual(snapshot.sub);
          expect(await readAll(after, s.topic)).toEqual(snapshot.records);
          const seen = await drain(after, s.sub, UNSETTLED);
          for (const id of SETTLED) expect(seen).not.toContain(id);
          expect(idsOf(await readAll(after, s.dlq))).toEqual(["r6"]);
          expect(await leaseNow(after, s.skipper.name)).toEqual([]);
        } finally {
          await after.close();
        }
      });

      it(`after ${how}: dedupe remembers appended events and offsets continue`, async () => {
        const before = await harness.open();
        const s = await setup(before);
        const events = newEvents(3);
        await before.log.append(s.topic, events);
        const after = await harness.reopen(before, how);
        try {
          expect(await after.log.append(s.topic, [...events, newEvent()])).toEqual([
            { offset: 1, duplicate: true },
            { offset: 2, duplicate: true },
            { offset: 3, duplicate: true },
            { offset: 4, duplicate: false },
          ]);
        } finally {
          await after.close();
        }
      });

      it(`after ${how}: redriven dead letters stay redriven`, async () => {
        const before = await harness.open();
        const s = await setup(before);
        await before.log.append(s.topic, newEvents(2));
        const leased = await leaseNow(before, s.sub);
        await before.cursors.reject(
          s.sub,
          leased.map((d) => d.ackId),
          "bad",
        );
        expect((await before.cursors.redrive(s.sub, { ids: [idsOf(leased)[0] ?? ""] })).moved).toBe(
          1,
        );
        const after = await harness.reopen(before, how);
        try {
          expect(await after.cursors.redrive(s.sub, { dryRun: true })).toMatchObject({
            matched: 1,
          });
          expect(idsOf(await leaseNow(after, s.sub))).toEqual(idsOf(leased).slice(0, 1));
        } finally {
          await after.close();
        }
      });
    }
  });
}
