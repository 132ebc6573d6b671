/**
 * Stores written before the router-owned marker, on both engines: the engine API writes a
 * subscription with an unmarked dead-letter topic (the old shape), and a Broker over it marks
 * it at start (idempotently), or, before that has run, accepts the topic as a dead-letter
 * topic because a subscription already uses it, and marks it then.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EngineCase, engineCases } from "../../test/support/engine-cases.js";
import { SwitchyardError } from "../core/errors.js";
import { SecretKeyRing } from "../core/secret-box.js";
import { setup } from "../engine/conformance/scope.js";
import type { Engine } from "../engine/engine.js";
import { Broker } from "./broker.js";

const cases = engineCases("OW");

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    if (error instanceof SwitchyardError) return error.code;
    throw error;
  }
}

const event = () => ({
  specversion: "1.0",
  id: randomBytes(6).toString("hex"),
  source: "/t",
  type: "t",
});

for (const c of cases)
  describe.runIf(c.available)(`a store from before the marker (${c.name})`, () => {
    let opened: Awaited<ReturnType<EngineCase["open"]>> | undefined;
    const engine = (): Engine => {
      if (opened === undefined) throw new Error("opened in beforeAll");
      return opened.engine;
    };
    beforeAll(async () => {
      opened = await c.open();
      await engine().ready();
    }, 60_000);
    afterAll(async () => opened?.dispose());

    it("marks every subscription's dead-letter topic at start, once; the subscription still updates", async () => {
      const s = await setup(engine());
      expect((await engine().log.getTopic(s.dlq))?.owner).toBeUndefined();
      const broker = new Broker({ engine: engine(), secretKeys: SecretKeyRing.generate() });
      // The old shape indeed: unmarked, the topic still takes publishes.
      expect((await broker.publish(s.dlq, [event()], false)).entries).toHaveLength(1);

      expect(await broker.markDeadLetterTopics()).toBeGreaterThanOrEqual(1);
      expect(await engine().log.getTopic(s.dlq)).toMatchObject({ owner: "router" });
      expect((await engine().log.getTopic(s.topic))?.owner).toBeUndefined();
      expect(await broker.markDeadLetterTopics()).toBe(0);

      // A second broker (another node, or the next start) sees the marker at once.
      const next = new Broker({ engine: engine(), secretKeys: SecretKeyRing.generate() });
      expect(await codeOf(next.publish(s.dlq, [event()], false))).toBe("forbidden");
      const update = await next.putSubscription(s.sub, {
        topic: s.topic,
        deadLetterTopic: s.dlq,
        maxAttempts: 4,
      });
      expect(update.created).toBe(false);
      expect(update.subscription.maxAttempts).toBe(4);
      expect((await next.getTopic(s.dlq)).owner).toBe("router");
    });

    it("before the start marking ran: the unmarked topic is still accepted as a dead-letter topic, and marked", async () => {
      const s = await setup(engine());
      const broker = new Broker({ engine: engine(), secretKeys: SecretKeyRing.generate() });
      const update = await broker.putSubscription(s.sub, {
        topic: s.topic,
        deadLetterTopic: s.dlq,
      });
      expect(update.created).toBe(false);
      expect((await engine().log.getTopic(s.dlq))?.owner).toBe("router");

      const other = await setup(engine());
      const sharing = `${other.sub}-b`;
      const created = await broker.putSubscription(sharing, {
        topic: other.topic,
        deadLetterTopic: other.dlq,
      });
      expect(created.created).toBe(true);
      expect((await engine().log.getTopic(other.dlq))?.owner).toBe("router");
      expect(await codeOf(broker.publish(other.dlq, [event()], false))).toBe("forbidden");
    });

    it("an ordinary topic no subscription uses is refused as a dead-letter topic (409), untouched", async () => {
      const s = await setup(engine());
      const plain = `${s.topic}-plain`;
      await engine().log.putTopic({
        ...((await engine().log.getTopic(s.topic)) ?? never()),
        name: plain,
      });
      const broker = new Broker({ engine: engine(), secretKeys: SecretKeyRing.generate() });
      expect(
        await codeOf(
          broker.putSubscription(`${s.sub}-c`, { topic: s.topic, deadLetterTopic: plain }),
        ),
      ).toBe("topic_in_use");
      expect((await engine().log.getTopic(plain))?.owner).toBeUndefined();
      expect(await engine().cursors.getSubscription(`${s.sub}-c`)).toBeNull();
    });
  });

function never(): never {
  throw new Error("the topic exists");
}
