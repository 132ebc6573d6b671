/**
 * Per-describe engine lifecycle and the topic + subscription setup most tests start from.
 * One engine serves every test of a describe block; tests isolate by unique names.
 */
import { afterAll, beforeAll } from "vitest";
import type { SubscriptionConfig, TopicConfig } from "../../core/config.js";
import type { Engine } from "../engine.js";
import { subscriptionConfig, topicConfig, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";

/** Opens an engine before the block's tests and closes it after; call inside `describe`. */
export function useEngine(harness: EngineHarness): () => Engine {
  let engine: Engine | undefined;
  beforeAll(async () => {
    engine = await harness.open();
    await engine.ready();
  });
  afterAll(async () => {
    await engine?.close();
  });
  return () => {
    if (engine === undefined) throw new Error("the engine is opened in beforeAll");
    return engine;
  };
}

export async function createTopic(
  engine: Engine,
  overrides: Partial<TopicConfig> = {},
): Promise<string> {
  const name = overrides.name ?? uniqueName();
  await engine.log.putTopic(topicConfig(name, overrides));
  return name;
}

/** Creates the subscription and, first, its dead-letter topic (the engine requires it). */
export async function createSubscription(
  engine: Engine,
  topic: string,
  overrides: Partial<SubscriptionConfig> = {},
): Promise<SubscriptionConfig> {
  const config = subscriptionConfig(overrides.name ?? uniqueName(), topic, overrides);
  await engine.log.putTopic(topicConfig(config.deadLetterTopic));
  await engine.cursors.putSubscription(config);
  return config;
}

export interface Setup {
  readonly topic: string;
  readonly sub: string;
  readonly dlq: string;
  readonly config: SubscriptionConfig;
}

/** A fresh topic with one subscription reading it from the start. */
export async function setup(
  engine: Engine,
  options: { topic?: Partial<TopicConfig>; sub?: Partial<SubscriptionConfig> } = {},
): Promise<Setup> {
  const topic = await createTopic(engine, options.topic);
  const config = await createSubscription(engine, topic, { start: "earliest", ...options.sub });
  return { topic, sub: config.name, dlq: config.deadLetterTopic, config };
}
