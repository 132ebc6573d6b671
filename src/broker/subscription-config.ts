import {
  type BackoffConfig,
  SUBSCRIPTION_DEFAULTS,
  type SubscriptionConfig,
} from "../core/config.js";
import { SwitchyardError } from "../core/errors.js";
import { type Filter, parseFilter } from "../core/filter.js";
import { assertSubscriptionName, defaultDeadLetterTopic, isTopicName } from "../core/names.js";
import {
  bodyObject,
  FieldErrors,
  type JsonObject,
  readInt,
  readNumber,
  readObject,
  rejectUnknown,
} from "./fields.js";
import { parsePushConfig } from "./push-config.js";
import { parseStartPosition } from "./start-position.js";

export const SUBSCRIPTION_BOUNDS = {
  ackTimeoutMs: { min: 10, max: 12 * 3_600_000 },
  maxAttempts: { min: 1, max: 1_000 },
  maxInFlight: { min: 1, max: 100_000 },
  initialMs: { min: 0, max: 86_400_000 },
  maxMs: { min: 0, max: 7 * 86_400_000 },
  multiplier: { min: 1, max: 100 },
} as const;

// `name`, `stats`, `state` and `health` are what GET returns: accepted and ignored so it can be PUT back.
const FIELDS = new Set([
  "topic",
  "filter",
  "start",
  "ackTimeoutMs",
  "maxAttempts",
  "backoff",
  "deadLetterTopic",
  "ordering",
  "maxInFlight",
  "push",
  "name",
  "stats",
  "state",
  "health",
]);
const BACKOFF_FIELDS = new Set(["initialMs", "maxMs", "multiplier"]);

function parseTopic(
  input: JsonObject,
  existing: SubscriptionConfig | null,
  errors: FieldErrors,
): string {
  const topic = input.topic ?? existing?.topic;
  if (topic === undefined) errors.add("/topic", "is required");
  else if (typeof topic !== "string" || !isTopicName(topic))
    errors.add("/topic", "must be a topic name matching [a-zA-Z0-9._-]{1,200}");
  return typeof topic === "string" ? topic : "";
}

function parseBackoff(input: JsonObject, errors: FieldErrors): BackoffConfig {
  const defaults = SUBSCRIPTION_DEFAULTS.backoff;
  const value = readObject(input, "backoff", "", errors);
  if (value === undefined) return { ...defaults };
  rejectUnknown(value, BACKOFF_FIELDS, "/backoff", errors);
  const initialMs = readInt(value, "initialMs", "/backoff", SUBSCRIPTION_BOUNDS.initialMs, errors);
  const maxMs = readInt(value, "maxMs", "/backoff", SUBSCRIPTION_BOUNDS.maxMs, errors);
  const multiplier = readNumber(
    value,
    "multiplier",
    "/backoff",
    SUBSCRIPTION_BOUNDS.multiplier,
    errors,
  );
  const backoff = {
    initialMs: initialMs ?? defaults.initialMs,
    maxMs: maxMs ?? Math.max(defaults.maxMs, initialMs ?? 0),
    multiplier: multiplier ?? defaults.multiplier,
  };
  if (backoff.maxMs < backoff.initialMs) errors.add("/backoff/maxMs", "must be at least initialMs");
  return backoff;
}

function parseFilterField(input: JsonObject, errors: FieldErrors): Filter | null {
  if (input.filter === undefined || input.filter === null) return null;
  try {
    return parseFilter(input.filter, "/filter");
  } catch (error) {
    if (!(error instanceof SwitchyardError)) throw error;
    for (const e of error.errors) errors.add(e.pointer, e.message);
    return null;
  }
}

function parseDeadLetterTopic(
  input: JsonObject,
  topic: string,
  name: string,
  errors: FieldErrors,
): string {
  const value = input.deadLetterTopic;
  if (value === undefined || value === null) return defaultDeadLetterTopic(topic, name);
  if (typeof value !== "string" || !isTopicName(value))
    errors.add("/deadLetterTopic", "must be a topic name matching [a-zA-Z0-9._-]{1,200}");
  else if (value === topic)
    errors.add("/deadLetterTopic", "must differ from the topic the subscription reads");
  return typeof value === "string" ? value : "";
}

/**
 * A subscription's config from a `PUT /v1/subscriptions/{name}` body, with API.md defaults.
 * `existing` is the stored config when this PUT is an update (its push secrets carry over
 * when the body names none). Filter problems answer `invalid_filter`, others `invalid_request`.
 */
export function parseSubscriptionConfig(
  name: string,
  body: unknown,
  existing: SubscriptionConfig | null,
): SubscriptionConfig {
  assertSubscriptionName(name, "path:name");
  const input = bodyObject(body);
  const errors = new FieldErrors();
  rejectUnknown(input, FIELDS, "", errors);
  const topic = parseTopic(input, existing, errors);
  const before = errors.list.length;
  const filter = parseFilterField(input, errors);
  const filterProblems = errors.list.length - before;
  const start =
    input.start === undefined ? undefined : parseStartPosition(input.start, "/start", errors);
  const ordering = input.ordering ?? SUBSCRIPTION_DEFAULTS.ordering;
  if (ordering !== "none" && ordering !== "key") errors.add("/ordering", 'must be "none" or "key"');
  const config: SubscriptionConfig = {
    name,
    topic,
    filter,
    start: start ?? SUBSCRIPTION_DEFAULTS.start,
    ackTimeoutMs:
      readInt(input, "ackTimeoutMs", "", SUBSCRIPTION_BOUNDS.ackTimeoutMs, errors) ??
      SUBSCRIPTION_DEFAULTS.ackTimeoutMs,
    maxAttempts:
      readInt(input, "maxAttempts", "", SUBSCRIPTION_BOUNDS.maxAttempts, errors) ??
      SUBSCRIPTION_DEFAULTS.maxAttempts,
    backoff: parseBackoff(input, errors),
    deadLetterTopic: parseDeadLetterTopic(input, topic, name, errors),
    ordering: ordering === "key" ? "key" : "none",
    maxInFlight:
      readInt(input, "maxInFlight", "", SUBSCRIPTION_BOUNDS.maxInFlight, errors) ??
      SUBSCRIPTION_DEFAULTS.maxInFlight,
    push: parsePushConfig(input.push, "/push", existing?.push ?? null, errors),
  };
  const onlyFilter = filterProblems > 0 && errors.list.length === filterProblems;
  errors.check(onlyFilter ? "invalid_filter" : "invalid_request");
  return config;
}
