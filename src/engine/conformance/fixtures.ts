/**
 * Builders for the suite: configs with API.md defaults, events whose body is a valid
 * structured CloudEvent, and names unique per test (derived from the test's title, so an
 * engine's logs can be grepped by test).
 */
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import {
  SUBSCRIPTION_DEFAULTS,
  type SubscriptionConfig,
  TOPIC_DEFAULTS,
  type TopicConfig,
} from "../../core/config.js";
import type { CloudEvent } from "../../core/event.js";
import { defaultDeadLetterTopic } from "../../core/names.js";
import type { LogRecord, NewEvent } from "../engine.js";

// Distinguishes runs against a persistent store (a NATS server outlives a test run).
const RUN = randomBytes(3).toString("hex");
let counter = 0;

function slugOfCurrentTest(): string {
  const title = expect.getState().currentTestName ?? "setup";
  const last = title.split(" > ").at(-1) ?? title;
  return (
    last
      .replace(/[^a-zA-Z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 28) || "t"
  );
}

/** A name no other test uses: `{slug of the test title}-{run}-{n}`, valid for topics and subscriptions. */
export function uniqueName(label = ""): string {
  counter += 1;
  const suffix = `${RUN}-${counter.toString(36)}`;
  return label === "" ? `${slugOfCurrentTest()}-${suffix}` : `${label}-${suffix}`;
}

export function topicConfig(name: string, overrides: Partial<TopicConfig> = {}): TopicConfig {
  return {
    name,
    retention: {},
    dedupeWindowMs: TOPIC_DEFAULTS.dedupeWindowMs,
    maxEventBytes: TOPIC_DEFAULTS.maxEventBytes,
    ...overrides,
  };
}

export function subscriptionConfig(
  name: string,
  topic: string,
  overrides: Partial<SubscriptionConfig> = {},
): SubscriptionConfig {
  return {
    name,
    topic,
    filter: null,
    start: SUBSCRIPTION_DEFAULTS.start,
    ackTimeoutMs: SUBSCRIPTION_DEFAULTS.ackTimeoutMs,
    maxAttempts: SUBSCRIPTION_DEFAULTS.maxAttempts,
    backoff: { ...SUBSCRIPTION_DEFAULTS.backoff },
    deadLetterTopic: defaultDeadLetterTopic(topic, name),
    ordering: SUBSCRIPTION_DEFAULTS.ordering,
    maxInFlight: SUBSCRIPTION_DEFAULTS.maxInFlight,
    push: null,
    ...overrides,
  };
}

export interface EventSpec {
  readonly id?: string;
  readonly source?: string;
  readonly type?: string;
  /** The `partitionkey` attribute; none when absent or null. */
  readonly key?: string | null;
  readonly data?: unknown;
  /** More extension attributes. */
  readonly extensions?: Readonly<Record<string, string | number | boolean>>;
}

let eventCounter = 0;

/** A NewEvent as the broker hands it to an engine: id and time filled in, serialised once. */
export function newEvent(spec: EventSpec = {}): NewEvent {
  eventCounter += 1;
  const id = spec.id ?? `ev-${RUN}-${eventCounter}`;
  const source = spec.source ?? "/conformance";
  const key = spec.key ?? null;
  const event: Record<string, unknown> = {
    specversion: "1.0",
    id,
    source,
    type: spec.type ?? "conformance.test",
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    ...(key === null ? {} : { partitionkey: key }),
    ...spec.extensions,
    data: spec.data ?? { n: eventCounter },
  };
  return { id, source, key, body: JSON.stringify(event) };
}

/** `count` events with ids `{prefix}-1` … `{prefix}-{count}`. */
export function newEvents(
  count: number,
  prefix = uniqueName("e"),
  spec: Omit<EventSpec, "id"> = {},
): NewEvent[] {
  return Array.from({ length: count }, (_, i) => newEvent({ ...spec, id: `${prefix}-${i + 1}` }));
}

/** The CloudEvent stored in a record. */
export function eventOf(record: LogRecord): CloudEvent {
  return JSON.parse(record.body) as CloudEvent;
}
