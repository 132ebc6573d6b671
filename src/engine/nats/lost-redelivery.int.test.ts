/**
 * A subscription's owner must not wait forever for JetStream to redeliver what it nak'd.
 * After a partition, a second owner across the healed link can receive that redelivery and
 * ack it, and a nats-server 2.9 consumer leader that took over can have moved past the
 * message: JetStream then never redelivers it. Played here on one server by acking the
 * delivery at JetStream over a raw connection, behind the owner's back. On a key-ordered
 * subscription the lost redelivery held its key, and every later event of the key, for good.
 * The other way round, a 2.9 consumer leader can confirm an ack and lose it in a leader
 * change: the owner must not hand that message out again (played by recreating the consumer).
 */
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { oneServerEngine } from "../../../test/support/nats-engine.js";
import { natsServerAvailable } from "../../../test/support/nats-server.js";
import type { SubscriptionConfig } from "../../core/config.js";
import { eventOf, newEvent, subscriptionConfig, topicConfig } from "../conformance/fixtures.js";
import type { Delivery } from "../engine.js";

const SHORT_LEASE_MS = 200;
const LONG_LEASE_MS = 60_000;
let serial = 0;
const unique = (label: string) => `${label}-${randomBytes(3).toString("hex")}-${++serial}`;
const ids = (ds: readonly Delivery[]) => ds.map((d) => eventOf(d.record).id);

describe.runIf(natsServerAvailable())("NATS engine: redeliveries JetStream loses", () => {
  const nats = oneServerEngine("R");
  const { names } = nats;

  async function keyed(
    overrides: Partial<SubscriptionConfig>,
  ): Promise<{ topic: string; sub: string }> {
    const topic = unique("t");
    const config = subscriptionConfig(unique("s"), topic, {
      start: "earliest",
      ordering: "key",
      ...overrides,
    });
    await nats.engine.log.putTopic(topicConfig(topic));
    await nats.engine.log.putTopic(topicConfig(config.deadLetterTopic));
    await nats.engine.cursors.putSubscription(config);
    await nats.engine.log.append(topic, [
      newEvent({ id: "k1", key: "k" }),
      newEvent({ id: "k2", key: "k" }),
    ]);
    return { topic, sub: config.name };
  }

  /** Leases until something comes (each call also expires and naks the leases that ran out). */
  const leaseSome = (sub: string, timeoutMs: number) =>
    eventually(
      async () => {
        const got = await nats.engine.cursors.lease(sub, {
          max: 10,
          waitMs: 0,
          leaseMs: LONG_LEASE_MS,
        });
        expect(got.length).toBeGreaterThan(0);
        return got;
      },
      { timeoutMs, intervalMs: 100 },
    );

  it("hands out again a nak'd event that JetStream holds settled (another owner acked it)", async () => {
    const { topic, sub } = await keyed({ ackTimeoutMs: 1_000 });
    const jsm = await jetstreamManager(nats.raw);
    const first = await nats.engine.cursors.lease(sub, {
      max: 10,
      waitMs: 0,
      leaseMs: SHORT_LEASE_MS,
    });
    expect(ids(first)).toEqual(["k1"]);
    // Settled at JetStream behind the owner's back, as by a second owner that received the
    // redelivery: k1 was the consumer's first delivery (consumer sequence 1).
    const ack = `$JS.ACK.${names.topicStream(topic)}.${names.topicConsumer(sub, 1)}.1.1.1.0.0`;
    await nats.raw.request(ack, "+ACK", { timeout: 5_000 });
    await eventually(async () => {
      const info = await jsm.consumers.info(names.topicStream(topic), names.topicConsumer(sub, 1));
      expect(info.ack_floor.stream_seq).toBe(1);
    });
    // A lease call expires k1's lease and naks it: JetStream, which holds k1 acked, ignores it.
    expect(await nats.engine.cursors.lease(sub, { max: 10, waitMs: SHORT_LEASE_MS * 2 })).toEqual(
      [],
    );

    // JetStream will never redeliver k1 now; the owner does, then k2 follows.
    const again = await leaseSome(sub, 15_000);
    expect(ids(again)).toEqual(["k1"]);
    expect(again.map((d) => d.attempt)).toEqual([2]);
    const acked = await nats.engine.cursors.ack(
      sub,
      again.map((d) => d.ackId),
    );
    expect(acked.map((r) => r.status)).toEqual(["ok"]);
    const next = await leaseSome(sub, 10_000);
    expect(ids(next)).toEqual(["k2"]);
    await nats.engine.cursors.ack(
      sub,
      next.map((d) => d.ackId),
    );
    await eventually(async () => expect((await nats.engine.cursors.stats(sub)).lag).toBe(0));
  });

  it("does not hand out again what it acked when the consumer lost the ack", async () => {
    const { topic, sub } = await keyed({ ordering: "none" });
    const first = await nats.engine.cursors.lease(sub, { max: 1, waitMs: 0 });
    expect(ids(first)).toEqual(["k1"]);
    const acked = await nats.engine.cursors.ack(
      sub,
      first.map((d) => d.ackId),
    );
    expect(acked.map((r) => r.status)).toEqual(["ok"]);
    // As a 2.9 consumer leader that confirmed the ack and lost it in a leader change: the
    // consumer's state goes, and JetStream delivers k1 again.
    const jsm = await jetstreamManager(nats.raw);
    const stream = names.topicStream(topic);
    const consumer = names.topicConsumer(sub, 1);
    const { config } = await jsm.consumers.info(stream, consumer);
    await jsm.consumers.delete(stream, consumer);
    await jsm.consumers.add(stream, config);

    const next = await leaseSome(sub, 10_000);
    expect(ids(next)).toEqual(["k2"]);
    await nats.engine.cursors.ack(
      sub,
      next.map((d) => d.ackId),
    );
    expect(await nats.engine.cursors.lease(sub, { max: 10, waitMs: 300 })).toEqual([]);
    // The owner acked k1 again at JetStream: nothing is left pending.
    await eventually(async () => expect((await nats.engine.cursors.stats(sub)).lag).toBe(0));
  });
});
