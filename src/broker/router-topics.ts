/**
 * Router-owned topics: dead-letter topics (marked `owner: "router"` when the router creates
 * them with their subscription) and every `switchyard.*` topic (the router's by name). Only
 * the router appends to them, through the engine directly (dead-lettering, the audit trail),
 * so a publish to one is refused whoever sends it, and an ordinary topic never silently
 * becomes a dead-letter topic.
 */
import type { SubscriptionConfig, TopicConfig, TopicOwner } from "../core/config.js";
import { SwitchyardError } from "../core/errors.js";
import { defaultDeadLetterTopic, isRouterTopicName, ROUTER_TOPIC_PREFIX } from "../core/names.js";
import type { Engine } from "../engine/engine.js";

export function isRouterOwned(config: TopicConfig): boolean {
  return config.owner === "router" || isRouterTopicName(config.name);
}

/** What the API shows as the topic's `owner`. */
export function ownerOf(config: TopicConfig): TopicOwner | null {
  return isRouterOwned(config) ? "router" : null;
}

/** `config`, marked when its name puts it in the router's namespace. */
export function withOwnerByName(config: TopicConfig): TopicConfig {
  return isRouterTopicName(config.name) ? { ...config, owner: "router" } : config;
}

/** 403 for a publish to a router-owned topic (an unknown `switchyard.*` one included). */
export function publishForbidden(name: string): SwitchyardError {
  const detail = isRouterTopicName(name)
    ? `topic ${name} belongs to the router: only the router appends to ${ROUTER_TOPIC_PREFIX}* topics`
    : `topic ${name} is a dead-letter topic: only the router appends to it; to deliver its dead letters again, redrive them (POST /v1/subscriptions/{name}/redrive)`;
  return new SwitchyardError("forbidden", detail, {
    errors: [{ pointer: "path:topic", message: "only the router appends to this topic" }],
  });
}

function dlqLabel(config: SubscriptionConfig): string {
  const defaulted = config.deadLetterTopic === defaultDeadLetterTopic(config.topic, config.name);
  return `${defaulted ? "the default dead-letter topic" : "dead-letter topic"} ${config.deadLetterTopic}`;
}

/** 400 for a dead-letter topic in the router's namespace (given, or defaulted from one). */
function inRouterNamespace(config: SubscriptionConfig): SwitchyardError {
  return new SwitchyardError(
    "invalid_request",
    `${dlqLabel(config)} is in the router's namespace (${ROUTER_TOPIC_PREFIX}*); name a deadLetterTopic outside it`,
    {
      errors: [
        {
          pointer: "/deadLetterTopic",
          message: `must not start with ${ROUTER_TOPIC_PREFIX}`,
        },
      ],
    },
  );
}

function ordinaryTopicInUse(config: SubscriptionConfig): SwitchyardError {
  return new SwitchyardError(
    "topic_in_use",
    `${dlqLabel(config)} already exists as an ordinary topic; a dead-letter topic is the router's own (only it appends there): name another deadLetterTopic, or delete that topic first`,
    {
      errors: [
        {
          pointer: "/deadLetterTopic",
          message: "names an existing topic that is not a dead-letter topic",
        },
      ],
    },
  );
}

/**
 * Refuses a dead-letter topic the subscription may not have, reading only (nothing is written
 * before the whole PUT is known to succeed). Allowed: an absent topic (the router creates it,
 * owned), a router-owned one (its own, another subscription's, or one orphaned by a deleted
 * subscription), and an unmarked topic that is already some subscription's dead-letter topic
 * (a store written before the marker existed; the caller then marks it). A `switchyard.*`
 * dead-letter topic is refused unless the subscription already had it.
 */
export async function checkDeadLetterTopic(
  engine: Engine,
  config: SubscriptionConfig,
  existing: SubscriptionConfig | null,
): Promise<void> {
  const name = config.deadLetterTopic;
  if (existing?.deadLetterTopic === name) return;
  if (isRouterTopicName(name)) throw inRouterNamespace(config);
  const topic = await engine.log.getTopic(name);
  if (topic === null || isRouterOwned(topic)) return;
  const subscriptions = await engine.cursors.listSubscriptions();
  if (subscriptions.some((s) => s.deadLetterTopic === name)) return;
  throw ordinaryTopicInUse(config);
}

/**
 * Marks every topic that is a current subscription's dead-letter topic (stores written before
 * the marker have them unmarked); answers how many it marked. Idempotent: run at every start.
 */
export async function markDeadLetterTopics(engine: Engine): Promise<number> {
  const subscriptions = await engine.cursors.listSubscriptions();
  const names = new Set(subscriptions.map((s) => s.deadLetterTopic));
  // One listing, not a read per dead-letter topic: every subscription has one, and this runs
  // before the router is ready (1,000 reads were ~50 ms of a start on SQLite, 1,000 round
  // trips on NATS).
  const unmarked = (await engine.log.listTopics()).filter(
    (topic) => names.has(topic.name) && topic.owner !== "router",
  );
  for (const topic of unmarked) await engine.log.putTopic({ ...topic, owner: "router" });
  return unmarked.length;
}
