import type { Filter } from "./filter.js";
import type { StartPosition } from "./positions.js";

export interface RetentionConfig {
  /** Events appended longer ago than this are removed. */
  readonly maxAgeMs?: number;
  /** Oldest events are removed while the topic's stored bytes exceed this. */
  readonly maxBytes?: number;
  /** Oldest events are removed while the topic holds more events than this. */
  readonly maxEvents?: number;
}

/**
 * Who owns a topic: `"router"` marks a topic only the router appends to (a dead-letter topic,
 * created with its subscription). `switchyard.*` topics are the router's by name, marked or not.
 */
export type TopicOwner = "router";

/** How a topic checks published events against the schema registry (API.md "Schemas"). */
export type SchemaMode = "off" | "warn" | "enforce";

export interface TopicSchemas {
  readonly mode: SchemaMode;
  /** Whether an event of a type with no registered schema is appended (`enforce`, `warn`). */
  readonly allowUnregisteredTypes: boolean;
}

export const SCHEMA_MODES: readonly SchemaMode[] = ["off", "warn", "enforce"];

/**
 * Per-topic indexes (API.md "Indexes"): opt-in because each costs a write per event.
 * `subject` numbers each subject's events (subject streams), `correlationid` serves flows.
 */
export type TopicIndex = "subject" | "correlationid";

export const TOPIC_INDEXES: readonly TopicIndex[] = ["subject", "correlationid"];

export const TOPIC_SCHEMAS_DEFAULT: TopicSchemas = { mode: "off", allowUnregisteredTypes: true };

export interface TopicConfig {
  readonly name: string;
  /**
   * Absent on ordinary topics. Sticky in every engine: a put without it keeps the marker, so
   * only deleting the topic clears it (a user's config change never turns a dead-letter
   * topic back into one anybody may publish to).
   */
  readonly owner?: TopicOwner;
  readonly retention: RetentionConfig;
  /** Repeats of `source`+`id` inside this window are not appended again. 0 disables dedupe. */
  readonly dedupeWindowMs: number;
  /** Largest accepted event, in bytes of its structured JSON form. */
  readonly maxEventBytes: number;
  /**
   * Absent means `TOPIC_SCHEMAS_DEFAULT` (off). Sticky in every engine, as `owner` is: a put
   * without it keeps the stored one (API.md: leaving `schemas` out of an update keeps it).
   */
  readonly schemas?: TopicSchemas;
  /** Absent or empty: no indexes. Not sticky: a put without it drops the topic's indexes. */
  readonly indexes?: readonly TopicIndex[];
}

export interface BackoffConfig {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
}

export type Ordering = "none" | "key";

/** Several events per request, as `application/cloudevents-batch+json`. */
export interface PushBatchConfig {
  /** Events per request at most. */
  readonly maxEvents: number;
  /** Bytes of request body at most (a single larger event still goes alone). */
  readonly maxBytes: number;
  /** How long a partly filled batch waits for more events before it is sent. */
  readonly lingerMs: number;
}

/** Why and since when a push subscription is paused (by the API/CLI, or a 410 answer). */
export interface PushPause {
  readonly reason: string;
  /** Epoch milliseconds. */
  readonly at: number;
}

export interface PushConfig {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly mode: "binary" | "structured";
  /** Write-only: never returned by the API (it shows `secretCount`). */
  readonly secrets: readonly string[];
  /** Batch mode; absent or null sends one event per request. */
  readonly batch?: PushBatchConfig | null;
  /** Requests per second at most (a batch counts once); absent or null: unlimited. */
  readonly ratePerSecond?: number | null;
  /** A failed event older than this (since it was appended) is dead-lettered, not retried. */
  readonly maxAgeMs?: number | null;
  /** What a 4xx other than 408, 410 and 429 does: retry (default) or dead-letter at once. */
  readonly onClientError?: "retry" | "dead-letter";
  /** Set by pause or a 410 answer, cleared by resume; nothing is sent while set. */
  readonly paused?: PushPause | null;
}

export interface SubscriptionConfig {
  readonly name: string;
  readonly topic: string;
  readonly filter: Filter | null;
  /** Applies when the subscription is created (and at seek); ignored on update. */
  readonly start: StartPosition;
  readonly ackTimeoutMs: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffConfig;
  readonly deadLetterTopic: string;
  readonly ordering: Ordering;
  readonly maxInFlight: number;
  readonly push: PushConfig | null;
}

export const TOPIC_DEFAULTS = {
  dedupeWindowMs: 300_000,
  maxEventBytes: 1_048_576,
} as const;

export const SUBSCRIPTION_DEFAULTS = {
  start: "latest",
  ackTimeoutMs: 30_000,
  maxAttempts: 10,
  backoff: { initialMs: 1_000, maxMs: 600_000, multiplier: 2 },
  ordering: "none",
  maxInFlight: 1_000,
  pushTimeoutMs: 10_000,
} as const;

export const LIMITS = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxBatchEvents: 10_000,
  readLimitDefault: 100,
  readLimitMax: 1_000,
  pullMaxDefault: 100,
  pullMaxMax: 1_000,
  /** Longest a pull may wait for deliveries. */
  pullWaitMaxMs: 60_000,
  /** Longest wait for a request's headers. */
  headersTimeoutMs: 10_000,
  /** A request body that sends nothing for this long is answered 408. */
  bodyIdleTimeoutMs: 30_000,
  /** Idle keep-alive connections are closed after this long. */
  keepAliveTimeoutMs: 72_000,
} as const;
