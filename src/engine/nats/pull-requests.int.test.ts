/**
 * Round trips per delivery. While the owner's standing long pull is live, JetStream hands it
 * each event as it is stored, so a lease that finds nothing held asks JetStream for nothing
 * more and waits. The owner used to send a `no_wait` pull beside it on every such lease (a
 * round trip, a subscription and an unsubscribe each): one per delivered event at a trickle.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { oneServerEngine } from "../../../test/support/nats-engine.js";
import { natsServerAvailable } from "../../../test/support/nats-server.js";
import { newEvent, subscriptionConfig, topicConfig } from "../conformance/fixtures.js";

let serial = 0;
const unique = (label: string) => `${label}-${randomBytes(3).toString("hex")}-${++serial}`;
const EVENTS = 30;

describe.runIf(natsServerAvailable())("NATS engine: pull requests while events trickle in", () => {
  const nats = oneServerEngine("P");

  it("sends no pull request per delivery while its long pull is live", async () => {
    const { engine, raw, names } = nats;
    const topic = unique("t");
    const sub = unique("s");
    const config = subscriptionConfig(sub, topic);
    await engine.log.putTopic(topicConfig(topic));
    await engine.log.putTopic(topicConfig(config.deadLetterTopic));
    await engine.cursors.putSubscription(config);
    // JetStream's API subjects are plain subjects: a subscriber sees each pull request too.
    let pulls = 0;
    const watch = raw.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${names.topicStream(topic)}.>`, {
      callback: () => void pulls++,
    });
    await raw.flush();

    const leasing = (async () => {
      let delivered = 0;
      while (delivered < EVENTS) {
        const got = await engine.cursors.lease(sub, { max: 10, waitMs: 5_000 });
        if (got.length === 0) throw new Error("a lease came back empty while events arrived");
        await engine.cursors.ack(
          sub,
          got.map((d) => d.ackId),
        );
        delivered += got.length;
      }
      return delivered;
    })();
    for (let i = 0; i < EVENTS; i++) {
      await engine.log.append(topic, [newEvent()]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await leasing).toBe(EVENTS);
    await raw.flush();
    watch.unsubscribe();
    // The first lease's no_wait pull and its long pull; a few more on a slow machine.
    expect(pulls).toBeGreaterThanOrEqual(2);
    expect(pulls).toBeLessThan(EVENTS / 3);
  });
});
