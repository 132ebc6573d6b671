/** The shapes of the router's HTTP resources (API.md), as the SDK sends and receives them. */
import type { BackoffConfig, Ordering, RetentionConfig } from "../core/config.js";
import type { StoredEvent } from "../core/event.js";
import type { Filter } from "../core/filter.js";
import type { StartPosition } from "../core/positions.js";

/** A stored event whose `data` has the type the caller expects. */
export type StoredEventOf<T> = StoredEvent & { readonly data: T };

/** How a topic checks published events against the schema registry (docs/schemas.md). */
export interface TopicSchemas {
  readonly mode: "off" | "warn" | "enforce";
  readonly allowUnregisteredTypes: boolean;
}

export interface TopicSettings {
  readonly retention?: RetentionConfig;
  readonly dedupeWindowMs?: number;
  readonly maxEventBytes?: number;
  /** Left out of an update, the topic keeps its current setting. */
  readonly schemas?: Partial<TopicSchemas>;
  /** Indexes to keep (a write per event each); left out of an update, they are dropped. */
  readonly indexes?: readonly TopicIndex[];
}

/** `correlationid` answers `admin.flow(id)`; `subject` numbers subject streams (`readSubject`, `expectedVersion`). */
export type TopicIndex = "subject" | "correlationid";

/** An index being filled from the events a topic held when it was added, or ready. */
export interface IndexState {
  readonly state: "building" | "ready";
  readonly remaining: number;
}

export interface TopicStats {
  readonly events: number;
  readonly bytes: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly indexes?: { readonly subject?: IndexState; readonly correlationid?: IndexState };
}

export interface Topic {
  readonly name: string;
  readonly retention: RetentionConfig;
  readonly dedupeWindowMs: number;
  readonly maxEventBytes: number;
  /** `"router"` for a dead-letter or `switchyard.*` topic: only the router appends to it. */
  readonly owner: "router" | null;
  readonly schemas: TopicSchemas;
  readonly indexes: readonly TopicIndex[];
  /** Present on `get`. */
  readonly stats?: TopicStats;
}

export interface PushSettings {
  readonly url: string;
  /** Write-only: answers show `headerNames`; left out of an update, the stored ones stay. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly mode?: "binary" | "structured";
  readonly secrets?: readonly string[];
  /** Shorthand for one secret. */
  readonly secret?: string;
  /** Several events per request (`application/cloudevents-batch+json`). */
  readonly batch?: {
    readonly maxEvents?: number;
    readonly maxBytes?: number;
    readonly lingerMs?: number;
  } | null;
  /** Requests per second at most (a batch counts once). */
  readonly ratePerSecond?: number | null;
  /** A failed event older than this (since it was appended) is dead-lettered, not retried. */
  readonly maxAgeMs?: number | null;
  /** What a 4xx other than 408/410/429 does (default "retry"). */
  readonly onClientError?: "retry" | "dead-letter";
}

/** Push delivery health beside a subscription's `state`. */
export interface PushHealth {
  readonly circuit: "closed" | "open" | "half-open";
  readonly consecutiveFailures: number;
  readonly pausedReason?: string;
  readonly pausedAt?: string;
}

/** One push attempt from the attempt log. */
export interface PushAttempt {
  readonly eventId: string;
  readonly offset: number;
  readonly attempt: number;
  readonly at: string;
  /** Null when no HTTP answer came (connection error, timeout, refused endpoint). */
  readonly status: number | null;
  readonly latencyMs: number;
  readonly error?: string;
  readonly response?: string;
}

export interface SubscriptionSettings {
  readonly topic: string;
  readonly filter?: Filter | null;
  /** Applies at creation only (use `seek` later). Default "latest". */
  readonly start?: StartPosition;
  readonly ackTimeoutMs?: number;
  readonly maxAttempts?: number;
  readonly backoff?: Partial<BackoffConfig>;
  readonly deadLetterTopic?: string;
  readonly ordering?: Ordering;
  readonly maxInFlight?: number;
  readonly push?: PushSettings | null;
}

export interface SubscriptionStats {
  readonly lag: number;
  readonly inFlight: number;
  readonly delivered: number;
  readonly acked: number;
  readonly deadLettered: number;
  readonly oldestUnackedAgeMs: number | null;
}

export interface Subscription {
  readonly name: string;
  readonly topic: string;
  readonly filter: Filter | null;
  readonly start: StartPosition;
  readonly ackTimeoutMs: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffConfig;
  readonly deadLetterTopic: string;
  readonly ordering: Ordering;
  readonly maxInFlight: number;
  /** Secrets and header values are write-only: the router answers their count and names. */
  readonly push:
    | (Omit<PushSettings, "secrets" | "secret" | "headers"> & {
        readonly secretCount: number;
        /** The push headers' names, sorted. */
        readonly headerNames: readonly string[];
      })
    | null;
  /** Present on `get`. */
  readonly stats?: SubscriptionStats;
  /** Push subscriptions only. */
  readonly state?: "healthy" | "degraded" | "paused";
  /** Push subscriptions only. */
  readonly health?: PushHealth;
}

export interface PulledDelivery<T = unknown> {
  readonly ackId: string;
  readonly attempt: number;
  readonly event: StoredEventOf<T>;
}

export type SettleStatus = "ok" | "unknown" | "expired";

export interface SettleResult {
  readonly ackId: string;
  readonly status: SettleStatus;
}

/** One correlation id's events across topics indexed by `correlationid`. */
export interface Flow<T = unknown> {
  /** In append order. */
  readonly events: StoredEventOf<T>[];
  /** `causationid` → `id`, between events of `events`. */
  readonly edges: { readonly from: string; readonly to: string }[];
  /** Events of topics this key may not read, left out. */
  readonly hidden: number;
  /** More events exist beyond `limit`. */
  readonly truncated: boolean;
}

export interface LogPage<T = unknown> {
  readonly events: StoredEventOf<T>[];
  /** Pass as `from` to read on. */
  readonly next: number;
}

export interface RedriveRequest {
  readonly ids?: readonly string[];
  readonly filter?: Filter;
  readonly limit?: number;
  readonly dryRun?: boolean;
  /** Events moved per step (default 1000). */
  readonly chunkSize?: number;
  /** Events per second at most (default: unlimited). */
  readonly ratePerSecond?: number;
  /** Who is asking, for the audit record (e.g. "alice@laptop"). */
  readonly actor?: string;
}

export interface RedriveStarted {
  /** The job id (absent on a dry run). */
  readonly redrive?: string;
  readonly matched: number;
  readonly keys: number;
}

export interface RedriveStatus {
  readonly state: "running" | "done" | "failed";
  readonly matched: number;
  readonly moved: number;
  readonly error?: string;
  readonly actor?: string | null;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

export interface RouterInfo {
  readonly version: string;
  readonly engine: unknown;
  readonly capabilities?: Readonly<Record<string, boolean>>;
  readonly [member: string]: unknown;
}

/** An API key's scopes: `admin`, `metrics`, or `manage:|schemas:|publish:|read:|consume:` + a glob. */
export interface KeySettings {
  readonly name: string;
  readonly scopes: readonly string[];
  /** RFC 3339; absent = never expires. */
  readonly expiresAt?: string | Date;
  readonly rateLimit?: { readonly requestsPerSec?: number; readonly eventsPerSec?: number };
}

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  /** Present when the key was created with one. */
  readonly rateLimit?: { readonly requestsPerSec?: number; readonly eventsPerSec?: number };
}

/** The answer to `keys.create`: the only one that ever contains the whole `key`. */
export interface CreatedApiKey extends Omit<ApiKey, "lastUsedAt"> {
  readonly key: string;
}

export interface KeySelf {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly expiresAt: string | null;
}

/** An AsyncAPI 3.0.0 document (`GET /v1/asyncapi.json`). */
export interface AsyncApiDocument {
  readonly asyncapi: string;
  readonly [member: string]: unknown;
}
