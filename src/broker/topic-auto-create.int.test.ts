/**
 * Auto-create decided when the broker would create, from the request's key, not from an
 * existence check made before: a topic deleted between the scope check and the handler is
 * not re-created for a key without `manage:` on it (404 `topic_not_found`, nothing written),
 * for a subscription PUT and for a publish alike. Real SQLite store.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SwitchyardError } from "../core/errors.js";
import { SecretKeyRing } from "../core/secret-box.js";
import type { Engine } from "../engine/engine.js";
import { openSqliteEngine } from "../engine/sqlite/index.js";
import { Broker, type MayCreateTopic } from "./broker.js";
import { Grants } from "./scopes.js";

const event = () => ({
  specversion: "1.0",
  id: randomBytes(6).toString("hex"),
  source: "/t",
  type: "t",
});

/** What the HTTP layer passes for a key: `manage:` on the topic, from its grants. */
const keyHolding =
  (...scopes: string[]): MayCreateTopic =>
  (topic) =>
    new Grants(scopes).allows({ kind: "manage", name: topic });

async function failure(promise: Promise<unknown>): Promise<SwitchyardError> {
  const error = await promise.then(
    () => new Error("resolved"),
    (e: unknown) => e,
  );
  if (!(error instanceof SwitchyardError)) throw error;
  return error;
}

describe("auto-create only for a request that may manage the topic", () => {
  let dir: string;
  let engine: Engine;
  let broker: Broker;
  // The scopes a subscriber holds to pass the PUT's scope rule: all but manage: on the topic.
  const subscriber = keyHolding("manage:race-sub", "read:race.*", "manage:race.*.dlq");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "switchyard-autocreate-"));
    engine = await openSqliteEngine({ dir });
    broker = new Broker({ engine, secretKeys: SecretKeyRing.generate(), autoCreateTopics: true });
  });
  afterAll(async () => {
    await broker.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a subscription PUT on a topic deleted after the check answers 404 and writes nothing", async () => {
    // The topic exists when the request's scopes are checked…
    await broker.putTopic("race.topic", {});
    // …and is deleted before the handler runs.
    await broker.deleteTopic("race.topic", false);
    const refused = await failure(
      broker.putSubscription("race-sub", { topic: "race.topic" }, null, subscriber),
    );
    expect(refused.code).toBe("topic_not_found");
    expect(refused.errors).toEqual([{ pointer: "/topic", message: "no such topic" }]);
    expect(await engine.log.getTopic("race.topic")).toBeNull();
    expect(await engine.log.getTopic("race.topic.race-sub.dlq")).toBeNull();
    expect(await engine.cursors.getSubscription("race-sub")).toBeNull();

    // The same request from a key that may manage the topic creates it.
    const manager = keyHolding("manage:race-sub", "read:race.*", "manage:race.*");
    const created = await broker.putSubscription(
      "race-sub",
      { topic: "race.topic" },
      null,
      manager,
    );
    expect(created.created).toBe(true);
    expect(await engine.log.getTopic("race.topic")).not.toBeNull();
  });

  it("a publish to a topic deleted after the check answers 404 for a key without manage:", async () => {
    await broker.putTopic("race.pub", {});
    await broker.deleteTopic("race.pub", false);
    const publisher = keyHolding("publish:race.*");
    const refused = await failure(broker.publish("race.pub", [event()], false, publisher));
    expect(refused.code).toBe("topic_not_found");
    expect(await engine.log.getTopic("race.pub")).toBeNull();
    const published = await broker.publish(
      "race.pub",
      [event()],
      false,
      keyHolding("publish:race.*", "manage:race.pub"),
    );
    expect(published.entries).toHaveLength(1);
  });

  it("without auto-create, no key creates a topic", async () => {
    const strict = new Broker({ engine, secretKeys: SecretKeyRing.generate() });
    try {
      const anyone: MayCreateTopic = () => true;
      const refused = await failure(
        strict.putSubscription("strict-sub", { topic: "race.strict" }, null, anyone),
      );
      expect(refused.code).toBe("topic_not_found");
      expect((await failure(strict.publish("race.strict", [event()], false, anyone))).code).toBe(
        "topic_not_found",
      );
      expect(await engine.log.getTopic("race.strict")).toBeNull();
    } finally {
      await strict.close();
    }
  });
});
