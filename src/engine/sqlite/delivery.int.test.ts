import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { SUBSCRIPTION_DEFAULTS, type SubscriptionConfig } from "../../core/config.js";
import type { Delivery, Engine, NewEvent } from "../engine.js";
import { openSqliteEngine } from "./index.js";

let dir: string;
let engine: Engine;
let counter = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sy-delivery-"));
  engine = await openSqliteEngine({ dir, retentionIntervalMs: 0 });
});
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

function event(key: string | null = null, extra: Record<string, unknown> = {}): NewEvent {
  counter += 1;
  const id = `e${counter}`;
  const attrs = key === null ? {} : { partitionkey: key };
  const body = JSON.stringify({
    specversion: "1.0",
    id,
    source: "/s",
    type: "t",
    ...attrs,
    ...extra,
  });
  return { id, source: "/s", key, body };
}

async function setup(
  sub: Partial<SubscriptionConfig> = {},
  retention = {},
): Promise<{ topic: string; sub: string; dlq: string }> {
  counter += 1;
  const topic = `topic-${counter}`;
  const name = `sub-${counter}`;
  const dlq = `${topic}.dlq`;
  await engine.log.putTopic({ name: topic, retention, dedupeWindowMs: 0, maxEventBytes: 1e6 });
  await engine.log.putTopic({ name: dlq, retention: {}, dedupeWindowMs: 0, maxEventBytes: 1e6 });
  await engine.cursors.putSubscription({
    name,
    topic,
    filter: null,
    start: "earliest",
    ackTimeoutMs: 60_000,
    maxAttempts: 10,
    backoff: { ...SUBSCRIPTION_DEFAULTS.backoff },
    deadLetterTopic: dlq,
    ordering: "none",
    maxInFlight: 1000,
    push: null,
    ...sub,
  });
  return { topic, sub: name, dlq };
}

const lease = (sub: string, max = 100, leaseMs?: number): Promise<readonly Delivery[]> =>
  engine.cursors.lease(sub, { max, waitMs: 0, ...(leaseMs === undefined ? {} : { leaseMs }) });
const offsets = (ds: readonly Delivery[]): number[] => ds.map((d) => d.record.offset);
const acks = (ds: readonly Delivery[]): string[] => ds.map((d) => d.ackId);

describe("sqlite deliveries", () => {
  it("redelivers a redriven event rebuilt from its dead-letter copy when retention removed the original", async () => {
    const { topic, sub } = await setup({}, { maxEvents: 1 });
    await engine.log.append(topic, [event(null, { data: { n: 1 } })]);
    const [first] = await lease(sub);
    await engine.cursors.reject(sub, acks(first ? [first] : []), "broken");
    await engine.log.append(topic, [event(), event()]);
    await engine.log.enforceRetention();
    expect((await engine.log.stats(topic)).firstOffset).toBe(3);
    expect(await engine.cursors.redrive(sub, {})).toEqual({ matched: 1, keys: 0, moved: 1 });
    const [again] = await lease(sub, 1);
    expect(again?.attempt).toBe(1);
    expect(again?.record.offset).toBe(1);
    expect(JSON.parse(again?.record.body ?? "{}")).toEqual(JSON.parse(first?.record.body ?? ""));
  });

  it("redrives a key's dead letters in offset order, behind the key's active delivery", async () => {
    const { topic, sub } = await setup({ ordering: "key" });
    await engine.log.append(topic, [event("k"), event("k")]);
    const one = await lease(sub);
    await engine.cursors.reject(sub, acks(one), "no");
    const two = await lease(sub);
    await engine.cursors.reject(sub, acks(two), "no");
    await engine.log.append(topic, [event("k")]);
    const active = await lease(sub);
    expect(offsets(active)).toEqual([3]);
    expect(await engine.cursors.redrive(sub, {})).toMatchObject({ matched: 2, keys: 1 });
    expect(await lease(sub)).toEqual([]);
    await engine.cursors.ack(sub, acks(active));
    const r1 = await lease(sub);
    expect(offsets(r1)).toEqual([1]);
    await engine.cursors.ack(sub, acks(r1));
    expect(offsets(await lease(sub))).toEqual([2]);
  });

  it("redrives each dead-lettering at most once", async () => {
    const { topic, sub } = await setup();
    await engine.log.append(topic, [event()]);
    await engine.cursors.reject(sub, acks(await lease(sub)), "no");
    expect(await engine.cursors.redrive(sub, { dryRun: true })).toEqual({
      matched: 1,
      keys: 0,
      moved: 0,
    });
    expect((await engine.cursors.redrive(sub, {})).moved).toBe(1);
    expect(await engine.cursors.redrive(sub, {})).toEqual({ matched: 0, keys: 0, moved: 0 });
  });

  it("dead-letters an expired final attempt even when nobody leases again", async () => {
    const { topic, sub, dlq } = await setup({ maxAttempts: 1 });
    await engine.log.append(topic, [event()]);
    expect(offsets(await lease(sub, 1, 100))).toEqual([1]);
    await eventually(async () => {
      expect((await engine.log.stats(dlq)).events).toBe(1);
    });
    const copy = JSON.parse(
      (await engine.log.read(dlq, { offset: 1 }, 1)).records[0]?.body ?? "{}",
    );
    expect(copy).toMatchObject({
      deadletterreason: "max attempts exceeded",
      deadletterattempts: 1,
    });
    expect((await engine.cursors.stats(sub)).deadLettered).toBe(1);
  });

  it("dead-letters at once a nack of the final attempt", async () => {
    const { topic, sub, dlq } = await setup({ maxAttempts: 1 });
    await engine.log.append(topic, [event()]);
    expect((await engine.cursors.nack(sub, acks(await lease(sub)), 60_000))[0]?.status).toBe("ok");
    expect((await engine.log.stats(dlq)).events).toBe(1);
  });

  it("drops deliveries of events retention removed and hands their key on", async () => {
    const { topic, sub } = await setup({ ordering: "key" }, { maxEvents: 1 });
    await engine.log.append(topic, [event("k"), event("k"), event("k")]);
    expect(offsets(await lease(sub))).toEqual([1]);
    await engine.log.enforceRetention();
    expect(offsets(await lease(sub))).toEqual([3]);
  });

  it("wakes a waiting lease for an append that commits together with the lease's own job", async () => {
    const { topic, sub } = await setup();
    const waiting = engine.cursors.lease(sub, { max: 10, waitMs: 60_000 });
    await engine.log.append(topic, [event()]);
    // A lost wake-up would leave the lease asleep until its 60 s wait ends.
    const answered = await Promise.race([waiting, delay(5_000, null)]);
    expect(answered === null ? "still waiting" : offsets(answered)).toEqual([1]);
  });

  it("applies a changed filter to events not yet handed out, keeping the position", async () => {
    const { topic, sub } = await setup();
    await engine.log.append(topic, [event(null, { color: "red" }), event(null, { color: "blue" })]);
    expect(offsets(await lease(sub, 1))).toEqual([1]);
    const config = await engine.cursors.getSubscription(sub);
    if (config === null) throw new Error("subscription missing");
    await engine.cursors.putSubscription({ ...config, filter: { exact: { color: "red" } } });
    await engine.log.append(topic, [event(null, { color: "red" })]);
    expect(offsets(await lease(sub))).toEqual([3]);
  });

  it("releases a key's blocked events when the subscription stops ordering by key", async () => {
    const { topic, sub } = await setup({ ordering: "key" });
    await engine.log.append(topic, [event("k"), event("k"), event("k")]);
    expect(offsets(await lease(sub))).toEqual([1]);
    const config = await engine.cursors.getSubscription(sub);
    if (config === null) throw new Error("subscription missing");
    await engine.cursors.putSubscription({ ...config, ordering: "none" });
    expect(offsets(await lease(sub)).sort()).toEqual([2, 3]);
  });

  it("reports lag, in-flight and the oldest unacked age", async () => {
    const { topic, sub } = await setup();
    await engine.log.append(topic, [event(), event(), event()]);
    await lease(sub, 1);
    const stats = await engine.cursors.stats(sub);
    expect(stats).toMatchObject({ position: 2, lag: 3, inFlight: 1, delivered: 1, acked: 0 });
    expect(stats.oldestUnackedAgeMs).toBeGreaterThanOrEqual(0);
  });

  it("commits without an fsync only a tick of nothing but leases of first attempts to subscriptions not ordered by key", async () => {
    const unsynced = (): number =>
      (engine as unknown as { writerStats(): { unsynced: number } }).writerStats().unsynced;
    const plain = await setup();
    await engine.log.append(plain.topic, [event(), event()]);
    let before = unsynced();
    const first = await lease(plain.sub, 1, 1);
    expect(offsets(first)).toEqual([1]);
    expect(unsynced() - before).toBe(1);
    // The expired lease is due: redelivering it (an attempt count) is fsync'd.
    await delay(5);
    before = unsynced();
    const again = await lease(plain.sub, 2);
    expect(again.map((d) => [d.record.offset, d.attempt])).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(unsynced() - before).toBe(0);
    const keyed = await setup({ ordering: "key" });
    await engine.log.append(keyed.topic, [event("k"), event("j")]);
    before = unsynced();
    expect(offsets(await lease(keyed.sub))).toEqual([1, 2]);
    expect(unsynced() - before).toBe(0);
    // A lease that shares its tick with a durable job (an append) rides its fsync'd commit.
    const mixed = await setup();
    await engine.log.append(mixed.topic, [event()]);
    before = unsynced();
    const [shared] = await Promise.all([
      lease(mixed.sub),
      engine.log.append(mixed.topic, [event()]),
    ]);
    expect(offsets(shared)).toEqual([1]);
    expect(unsynced() - before).toBe(0);
  });

  it("fails only the caller whose append names an unknown topic", async () => {
    const { topic } = await setup();
    const results = await Promise.allSettled([
      engine.log.append(topic, [event()]),
      engine.log.append("no-such-topic", [event()]),
      engine.log.append(topic, [event()]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((await engine.log.stats(topic)).lastOffset).toBe(2);
  });
});
