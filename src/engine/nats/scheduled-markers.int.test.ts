/**
 * What fired and cancelled scheduled events leave in the Catalog bucket (docs/scheduled-events.md
 * "How it works"): a delete marker per record, two per event, erased once the engine's
 * `scheduledMarkerKeepMs` old, by a prune call (the scheduler's firing node makes them) and
 * never taking a record written again since. Counted at JetStream, per topic subject.
 */
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { oneServerEngine } from "../../../test/support/nats-engine.js";
import { natsServerAvailable } from "../../../test/support/nats-server.js";
import { Broker } from "../../broker/broker.js";
import { SecretKeyRing } from "../../core/secret-box.js";
import { newEvent, topicConfig } from "../conformance/fixtures.js";
import { idsOf, readAll } from "../conformance/probes.js";
import type { PendingEvent } from "../engine.js";
import { NatsEngine } from "./index.js";
import { Names } from "./names.js";

const KEEP_MS = 400;
let serial = 0;
const unique = (label: string) => `${label}-${randomBytes(3).toString("hex")}-${++serial}`;

function pending(id: string, deliverAt: number): PendingEvent {
  const extensions = { deliverat: new Date(deliverAt).toISOString() };
  return { event: newEvent({ id, extensions }), deliverAt };
}

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.runIf(natsServerAvailable())("NATS engine: delete markers of scheduled events", () => {
  const nats = oneServerEngine("M", { scheduledMarkerKeepMs: KEEP_MS });

  /** Messages the bucket holds for `topic`'s scheduled records, markers included. */
  async function held(names: Names, topic: string): Promise<number> {
    const jsm = await jetstreamManager(nats.raw);
    const bucket = names.catalogBucket;
    const topicKey = Buffer.from(topic).toString("base64url");
    let total = 0;
    for (const kind of ["scheduled", "scheduled-id"]) {
      const info = await jsm.streams.info(`KV_${bucket}`, {
        subjects_filter: `$KV.${bucket}.${kind}.${topicKey}.>`,
      });
      for (const count of Object.values(info.state.subjects ?? {})) total += count;
    }
    return total;
  }

  it("erases the markers once old, keeping a record written again since", async () => {
    const { engine, names } = nats;
    const topic = unique("t");
    await engine.log.putTopic(topicConfig(topic, { dedupeWindowMs: 0 }));
    const base = Date.now() - 60_000;
    const ids = Array.from({ length: 20 }, (_, i) => `e${i}`);
    await engine.scheduled.schedule(
      topic,
      ids.map((id, i) => pending(id, base + i)),
    );
    for (const id of ids.slice(0, 5))
      expect(await engine.scheduled.cancel(topic, id, null)).toBe("cancelled");
    expect((await engine.scheduled.fire(topic, Date.now(), 100)).fired).toBe(15);
    // Nothing pending, yet 40 markers: one per record of each of the 20 events (the firing
    // removes the records in the background).
    await engine.scheduled.settle();
    expect(await held(names, topic)).toBe(40);
    await until(async () => engine.scheduled.markers >= 40, 5_000);
    // e7 again, later: a new event record, and its id record written over its marker.
    expect(await engine.scheduled.schedule(topic, [pending("e7", base + 1_000)])).toEqual([
      { deliverAt: base + 1_000, duplicate: false },
    ]);
    await engine.scheduled.prune(); // too young yet
    expect(await held(names, topic)).toBe(41);

    await new Promise((resolve) => setTimeout(resolve, KEEP_MS + 100));
    await engine.scheduled.prune();
    expect(await held(names, topic)).toBe(2);
    expect(engine.scheduled.markers).toBe(0);
    const page = await engine.scheduled.list(topic, 10, null);
    expect(page.records.map((r) => r.id)).toEqual(["e7"]);
    expect(await engine.scheduled.cancel(topic, "e3", null)).toBe("not_found");
    expect(await engine.scheduled.fire(topic, Date.now(), 100)).toEqual({ fired: 1, next: null });
    await engine.scheduled.settle();
    expect(idsOf(await readAll(engine, topic))).toEqual([...ids.slice(5), "e7"]);

    await until(async () => engine.scheduled.markers >= 2, 5_000);
    await new Promise((resolve) => setTimeout(resolve, KEEP_MS + 100));
    await engine.scheduled.prune();
    expect(await held(names, topic)).toBe(0);
  });

  it("the scheduler's firing node prunes on its own", async () => {
    const prefix = `MB${randomBytes(3).toString("hex")}`;
    const engine = await NatsEngine.open({
      servers: nats.url,
      prefix,
      timeoutMs: 5_000,
      scheduledMarkerKeepMs: KEEP_MS,
    });
    const broker = new Broker({ engine, secretKeys: SecretKeyRing.generate() });
    try {
      await broker.startScheduler();
      const topic = unique("auto");
      await broker.putTopic(topic, {});
      const at = new Date(Date.now() + 300).toISOString();
      await broker.publish(
        topic,
        ["a1", "a2", "a3"].map((id) => ({
          specversion: "1.0",
          id,
          source: "/markers",
          type: "t",
          deliverat: at,
        })),
        true,
      );
      await until(
        async () => (await broker.read(topic, { offset: 1 }, 10)).records.length === 3,
        5_000,
      );
      // The scheduler prunes every 5 s (the markers' growth: the test above).
      await until(async () => (await held(new Names(prefix), topic)) === 0, 12_000);
    } finally {
      await broker.close();
      await engine.close();
    }
  }, 20_000);
});
