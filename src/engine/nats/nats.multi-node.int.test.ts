/**
 * Two NATS engines on one JetStream with the same prefix behave as two Switchyard nodes:
 * they share topics and subscriptions, either can settle what the other handed out, and a
 * node that dies loses nothing: its leases run out and another node hands the events out.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import {
  type NatsServers,
  natsServerAvailable,
  startNatsServer,
} from "../../../test/support/nats-server.js";
import type { SubscriptionConfig } from "../../core/config.js";
import {
  eventOf,
  newEvent,
  newEvents,
  subscriptionConfig,
  topicConfig,
} from "../conformance/fixtures.js";
import type { Delivery } from "../engine.js";
import { NatsEngine } from "./index.js";

const SHORT_LEASE_MS = 300;
const LONG_LEASE_MS = 60_000;
let names = 0;
const unique = (label: string) => `${label}-${randomBytes(3).toString("hex")}-${++names}`;

describe.runIf(natsServerAvailable())("NATS engine: two nodes on one JetStream", () => {
  let servers: NatsServers;
  const prefix = `M${randomBytes(3).toString("hex")}`;
  const open: NatsEngine[] = [];
  const node = async () => {
    const engine = await NatsEngine.open({ servers: servers.url, prefix, timeoutMs: 5_000 });
    open.push(engine);
    return engine;
  };
  let a: NatsEngine;
  let b: NatsEngine;

  beforeAll(async () => {
    servers = await startNatsServer();
    a = await node();
    b = await node();
  });

  afterAll(async () => {
    for (const engine of open) await engine.close();
    await servers?.close();
  });

  async function subscription(
    on: NatsEngine,
    overrides: Partial<SubscriptionConfig> = {},
  ): Promise<{ topic: string; sub: string }> {
    const topic = unique("t");
    const config = subscriptionConfig(unique("s"), topic, { start: "earliest", ...overrides });
    await on.log.putTopic(topicConfig(topic));
    await on.log.putTopic(topicConfig(config.deadLetterTopic));
    await on.cursors.putSubscription(config);
    return { topic, sub: config.name };
  }

  const ids = (ds: readonly Delivery[]) => ds.map((d) => eventOf(d.record).id);
  const statuses = (rs: readonly { status: string }[]) => rs.map((r) => r.status);

  it("shares topics, events and subscriptions", async () => {
    const topic = unique("t");
    await a.log.putTopic(topicConfig(topic));
    expect(await b.log.getTopic(topic)).toEqual(topicConfig(topic));
    const event = newEvent();
    await b.log.append(topic, [event]);
    expect(await a.log.append(topic, [event])).toEqual([{ offset: 1, duplicate: true }]);
    const { sub } = await subscription(a);
    expect((await b.cursors.getSubscription(sub))?.name).toBe(sub);
  });

  it("settles on one node what the other handed out", async () => {
    const { topic, sub } = await subscription(a);
    await a.log.append(topic, newEvents(2));
    const leased = await b.cursors.lease(sub, { max: 10, waitMs: 0, leaseMs: LONG_LEASE_MS });
    expect(leased.map((d) => d.record.offset)).toEqual([1, 2]);
    const acked = await a.cursors.ack(
      sub,
      leased.map((d) => d.ackId),
    );
    expect(statuses(acked)).toEqual(["ok", "ok"]);
    expect(statuses(await b.cursors.ack(sub, [leased[0]?.ackId ?? ""]))).toEqual(["unknown"]);
    expect((await a.cursors.stats(sub)).acked).toBe(2);
  });

  it("never hands one event to two nodes, even leasing concurrently", async () => {
    const { topic, sub } = await subscription(a);
    await a.log.append(topic, newEvents(100));
    const batches = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? a : b).cursors.lease(sub, { max: 20, waitMs: 0, leaseMs: LONG_LEASE_MS }),
      ),
    );
    const offsets = batches.flat().map((d) => d.record.offset);
    expect(offsets.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it("keeps one key in flight at a time across nodes", async () => {
    const { topic, sub } = await subscription(a, { ordering: "key" });
    await a.log.append(topic, [newEvent({ id: "k1", key: "k" }), newEvent({ id: "k2", key: "k" })]);
    const first = await a.cursors.lease(sub, { max: 10, waitMs: 0, leaseMs: LONG_LEASE_MS });
    expect(ids(first)).toEqual(["k1"]);
    expect(await b.cursors.lease(sub, { max: 10, waitMs: 0 })).toEqual([]);
    await b.cursors.ack(
      sub,
      first.map((d) => d.ackId),
    );
    expect(ids(await b.cursors.lease(sub, { max: 10, waitMs: 0 }))).toEqual(["k2"]);
  });

  it("answers a waiting lease on one node when the other appends", async () => {
    const { topic, sub } = await subscription(a);
    await b.cursors.stats(sub);
    const waiting = a.cursors.lease(sub, { max: 10, waitMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await b.log.append(topic, newEvents(1));
    expect((await waiting).map((d) => d.record.offset)).toEqual([1]);
  });

  it("gives nothing to an aborted forwarded lease and keeps its events for the next", async () => {
    const { topic, sub } = await subscription(a);
    await a.cursors.stats(sub);
    const controller = new AbortController();
    const waiting = b.cursors.lease(sub, { max: 10, waitMs: 20_000, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await waiting).toEqual([]);
    await a.log.append(topic, newEvents(1));
    const next = await eventually(async () => {
      const got = await b.cursors.lease(sub, { max: 10, waitMs: 0 });
      expect(got).toHaveLength(1);
      return got;
    });
    expect(next.map((d) => d.attempt)).toEqual([1]);
  });

  it("expires on every node the ackIds a seek on another node superseded", async () => {
    const { topic, sub } = await subscription(a);
    await a.log.append(topic, newEvents(2));
    const leased = await a.cursors.lease(sub, { max: 10, waitMs: 0, leaseMs: LONG_LEASE_MS });
    expect(await b.cursors.seek(sub, "earliest")).toBe(1);
    expect(
      statuses(
        await a.cursors.ack(
          sub,
          leased.map((d) => d.ackId),
        ),
      ),
    ).toEqual(["expired", "expired"]);
  });

  it("redelivers through the surviving node what a dead node had leased", async () => {
    const c = await node();
    const { topic, sub } = await subscription(c, { ackTimeoutMs: SHORT_LEASE_MS });
    await c.log.append(topic, newEvents(3));
    const leased = await c.cursors.lease(sub, { max: 2, waitMs: 0 });
    expect(leased.map((d) => d.record.offset)).toEqual([1, 2]);
    await c.cursors.ack(sub, [leased[0]?.ackId ?? ""]);
    await c.kill();
    const seen: Delivery[] = [];
    await eventually(
      async () => {
        seen.push(...(await a.cursors.lease(sub, { max: 10, waitMs: 0, leaseMs: LONG_LEASE_MS })));
        expect(seen.map((d) => d.record.offset).sort()).toEqual([2, 3]);
      },
      { timeoutMs: 10_000 },
    );
    expect(seen.find((d) => d.record.offset === 2)?.attempt).toBe(2);
    expect(
      statuses(
        await b.cursors.ack(
          sub,
          seen.map((d) => d.ackId),
        ),
      ),
    ).toEqual(["ok", "ok"]);
  });

  it("keeps a key's order when its owner dies with the key in flight", async () => {
    const c = await node();
    // Long enough that the first lease below comes before JetStream redelivers o1.
    const { topic, sub } = await subscription(c, { ordering: "key", ackTimeoutMs: 3_000 });
    await c.log.append(topic, [newEvent({ id: "o1", key: "o" }), newEvent({ id: "o2", key: "o" })]);
    expect(ids(await c.cursors.lease(sub, { max: 10, waitMs: 0 }))).toEqual(["o1"]);
    await c.kill();
    // The new owner must not hand out o2 while o1 may still be in flight at the dead node.
    expect(await a.cursors.lease(sub, { max: 10, waitMs: 0, leaseMs: LONG_LEASE_MS })).toEqual([]);
    const again = await eventually(
      async () => {
        const got = await a.cursors.lease(sub, { max: 10, waitMs: 0, leaseMs: LONG_LEASE_MS });
        expect(ids(got)).toEqual(["o1"]);
        return got;
      },
      { timeoutMs: 10_000 },
    );
    expect(again.map((d) => d.attempt)).toEqual([2]);
    await b.cursors.ack(
      sub,
      again.map((d) => d.ackId),
    );
    expect(ids(await b.cursors.lease(sub, { max: 10, waitMs: 0 }))).toEqual(["o2"]);
  });

  it("accepts, after a clean handover, an ack for a delivery the old owner issued", async () => {
    const c = await node();
    const { topic, sub } = await subscription(c);
    await c.log.append(topic, newEvents(2));
    const leased = await c.cursors.lease(sub, { max: 10, waitMs: 0, leaseMs: LONG_LEASE_MS });
    await c.close();
    expect(
      statuses(
        await a.cursors.ack(
          sub,
          leased.map((d) => d.ackId),
        ),
      ),
    ).toEqual(["ok", "ok"]);
    expect(statuses(await b.cursors.ack(sub, [leased[0]?.ackId ?? ""]))).toEqual(["unknown"]);
    expect(await b.cursors.lease(sub, { max: 10, waitMs: 300 })).toEqual([]);
  });
});
