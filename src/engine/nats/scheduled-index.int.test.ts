/**
 * The in-memory due index of the NATS scheduled store (docs/scheduled-events.md "How it
 * works"), across nodes: a node learns of events another node accepted, and of their
 * firing or cancelling, from its watch of the Catalog bucket, without listing it.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { oneServerEngine } from "../../../test/support/nats-engine.js";
import { natsServerAvailable } from "../../../test/support/nats-server.js";
import { newEvent, topicConfig } from "../conformance/fixtures.js";
import { idsOf, readAll } from "../conformance/probes.js";
import type { PendingEvent } from "../engine.js";
import { NatsEngine } from "./index.js";

const unique = (label: string) => `${label}-${randomBytes(3).toString("hex")}`;

function pending(id: string, deliverAt: number): PendingEvent {
  const extensions = { deliverat: new Date(deliverAt).toISOString() };
  return { event: newEvent({ id, extensions }), deliverAt };
}

async function until(check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.runIf(natsServerAvailable())("NATS engine: the scheduled due index across nodes", () => {
  const nats = oneServerEngine("I");

  it("tells a node of events accepted on another, and forgets those fired or cancelled there", async () => {
    const peer = await NatsEngine.open({
      servers: nats.url,
      prefix: nats.prefix,
      timeoutMs: 5_000,
    });
    try {
      const topic = unique("t");
      await nats.engine.log.putTopic(topicConfig(topic, { dedupeWindowMs: 0 }));
      const heard: [string, number][] = [];
      const stop = peer.scheduled.onDue((t, at) => heard.push([t, at]));
      const base = Date.now() + 3_600_000;
      await nats.engine.scheduled.schedule(topic, [
        pending("x1", base + 2_000),
        pending("x2", base + 1_000),
        pending("x3", base + 3_000),
      ]);
      await until(() => heard.length === 3, 5_000);
      expect(heard.map(([, at]) => at).sort()).toEqual([base + 1_000, base + 2_000, base + 3_000]);
      expect(heard.every(([t]) => t === topic)).toBe(true);
      expect((await peer.scheduled.due()).get(topic)).toBe(base + 1_000);

      // Cancelled and fired on the first node: the peer's index follows.
      expect(await nats.engine.scheduled.cancel(topic, "x2", null)).toBe("cancelled");
      await until(async () => (await peer.scheduled.due()).get(topic) === base + 2_000, 5_000);
      expect(await nats.engine.scheduled.fire(topic, base + 2_000, 10)).toEqual({
        fired: 1,
        next: base + 3_000,
      });
      await until(async () => (await peer.scheduled.due()).get(topic) === base + 3_000, 5_000);
      // The peer fires the rest from its own index.
      expect(await peer.scheduled.fire(topic, base + 5_000, 10)).toEqual({ fired: 1, next: null });
      expect(idsOf(await readAll(nats.engine, topic))).toEqual(["x1", "x3"]);
      await until(async () => !(await nats.engine.scheduled.due()).has(topic), 5_000);
      stop();
    } finally {
      await peer.close();
    }
  });
});
