import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import type { SubscriptionConfig } from "../../core/config.js";
import { newEvents, subscriptionConfig, topicConfig, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, LONG_LEASE_MS, leaseNow, offsetsOf, readAll, statusesOf } from "./probes.js";
import { createSubscription, createTopic, setup, useEngine } from "./scope.js";

export function subscriptionTests(harness: EngineHarness): void {
  describe("subscriptions", () => {
    const engine = useEngine(harness);

    it("creates, then updates: put answers created true, then false; get returns the config", async () => {
      const topic = await createTopic(engine());
      const config = await createSubscription(engine(), topic, {
        filter: { any: [{ exact: { type: "a" } }, { prefix: { "data.sku": "X-" } }] },
        ackTimeoutMs: 1_234,
        maxAttempts: 3,
        backoff: { initialMs: 10, maxMs: 20, multiplier: 1.5 },
        ordering: "key",
        maxInFlight: 7,
        push: {
          url: "https://example.test/hook",
          headers: { "x-team": "shop" },
          timeoutMs: 5_000,
          mode: "structured",
          secrets: ["whsec_one", "whsec_two"],
        },
      });
      expect(await engine().cursors.getSubscription(config.name)).toEqual(config);
      const updated: SubscriptionConfig = { ...config, filter: null, maxAttempts: 4, push: null };
      expect(await engine().cursors.putSubscription(updated)).toEqual({ created: false });
      expect(await engine().cursors.getSubscription(config.name)).toEqual(updated);
    });

    it("answers created true for a new subscription", async () => {
      const topic = await createTopic(engine());
      const config = subscriptionConfig(uniqueName(), topic);
      await engine().log.putTopic(topicConfig(config.deadLetterTopic));
      expect(await engine().cursors.putSubscription(config)).toEqual({ created: true });
    });

    it("lists all subscriptions, or those of one topic", async () => {
      const one = await createTopic(engine());
      const two = await createTopic(engine());
      const a = await createSubscription(engine(), one);
      const b = await createSubscription(engine(), one);
      const c = await createSubscription(engine(), two);
      const all = await engine().cursors.listSubscriptions();
      for (const config of [a, b, c]) expect(all).toContainEqual(config);
      const ofOne = await engine().cursors.listSubscriptions(one);
      expect(ofOne.map((s) => s.name).sort()).toEqual([a.name, b.name].sort());
    });

    it("deletes a subscription and its state; a second delete answers false", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(2));
      await leaseNow(engine(), s.sub, { leaseMs: LONG_LEASE_MS });
      expect(await engine().cursors.deleteSubscription(s.sub)).toBe(true);
      expect(await engine().cursors.getSubscription(s.sub)).toBeNull();
      await expectCode(leaseNow(engine(), s.sub), "subscription_not_found");
      expect(await engine().cursors.deleteSubscription(s.sub)).toBe(false);
      // Recreated under the same name it starts over: nothing of the old one's leases is left.
      await engine().cursors.putSubscription(s.config);
      const again = await leaseNow(engine(), s.sub);
      expect(offsetsOf(again)).toEqual([1, 2]);
      expect(again.map((d) => d.attempt)).toEqual([1, 1]);
    });

    it("starts at latest, earliest, an offset or a time", async () => {
      const topic = await createTopic(engine());
      await engine().log.append(topic, newEvents(2));
      const records = await readAll(engine(), topic);
      const last = records.at(-1)?.appendedAt ?? 0;
      await eventually(() => expect(Date.now()).toBeGreaterThan(last + 1));
      await engine().log.append(topic, newEvents(2));
      const third = (await readAll(engine(), topic))[2]?.appendedAt ?? 0;
      const starts = {
        latest: "latest",
        earliest: "earliest",
        offset: { offset: 2 },
        time: { time: new Date(third).toISOString() },
      } as const;
      const expected = { latest: [], earliest: [1, 2, 3, 4], offset: [2, 3, 4], time: [3, 4] };
      for (const [label, start] of Object.entries(starts)) {
        const sub = await createSubscription(engine(), topic, { start });
        expect(offsetsOf(await leaseNow(engine(), sub.name)), label).toEqual(
          expected[label as keyof typeof expected],
        );
      }
    });

    it("keeps position and outstanding deliveries on update; start is ignored", async () => {
      const s = await setup(engine());
      await engine().log.append(s.topic, newEvents(3));
      const [first] = await leaseNow(engine(), s.sub, { max: 1, leaseMs: LONG_LEASE_MS });
      await engine().cursors.putSubscription({ ...s.config, start: "latest", maxAttempts: 5 });
      expect(statusesOf(await engine().cursors.ack(s.sub, [first?.ackId ?? ""]))).toEqual(["ok"]);
      expect(offsetsOf(await leaseNow(engine(), s.sub))).toEqual([2, 3]);
    });

    it("rejects an unknown topic or dead-letter topic with topic_not_found", async () => {
      const topic = await createTopic(engine());
      const missingTopic = subscriptionConfig(uniqueName(), uniqueName());
      await engine().log.putTopic(topicConfig(missingTopic.deadLetterTopic));
      await expectCode(engine().cursors.putSubscription(missingTopic), "topic_not_found");
      const missingDlq = subscriptionConfig(uniqueName(), topic, { deadLetterTopic: uniqueName() });
      await expectCode(engine().cursors.putSubscription(missingDlq), "topic_not_found");
      expect(await engine().cursors.getSubscription(missingTopic.name)).toBeNull();
      expect(await engine().cursors.getSubscription(missingDlq.name)).toBeNull();
    });

    it("rejects a change of topic with subscription_topic_changed and keeps the old config", async () => {
      const s = await setup(engine());
      const other = await createTopic(engine());
      await expectCode(
        engine().cursors.putSubscription({ ...s.config, topic: other }),
        "subscription_topic_changed",
      );
      expect(await engine().cursors.getSubscription(s.sub)).toEqual(s.config);
    });
  });
}
