/**
 * THE storage seam. The engine is the only holder of durable state; everything above it
 * (broker, server, CLI) is stateless with respect to events and cursors. No SQL or NATS type
 * appears here. Every implementation passes `engine/conformance/`, which is the executable
 * form of the contract written in these comments.
 *
 * Errors: methods reject with `SwitchyardError` codes from `core/errors.ts` only
 * (`topic_not_found`, `subscription_not_found`, `topic_in_use`, `subscription_topic_changed`,
 * `engine_unavailable`, ...). After `close()` every method rejects with `engine_unavailable`.
 */
import type { SubscriptionConfig, TopicConfig, TopicIndex } from "../core/config.js";
import type { SwitchyardError } from "../core/errors.js";
import type { Filter } from "../core/filter.js";
import type { LogPosition, StartPosition } from "../core/positions.js";
import type { LogRecord } from "../core/stored-event.js";

export type { LogRecord } from "../core/stored-event.js";

/**
 * What an engine can do. A closed list: key ordering, seek, dead-lettering, redrive and
 * retention are not optional and so are not listed; only `atomicBatch` may be false.
 */
export interface EngineCapabilities {
  /** A batch append is all-or-nothing. When false, `append` may report per-event errors. */
  readonly atomicBatch: boolean;
}

export interface Engine {
  readonly name: string;
  readonly capabilities: EngineCapabilities;
  readonly log: EventLog;
  readonly cursors: CursorStore;
  readonly catalog: Catalog;
  readonly scheduled: ScheduleStore;
  /** Resolves when reads and writes are served; rejects with `engine_unavailable`. */
  ready(signal?: AbortSignal): Promise<void>;
  /** Finishes in-flight commits, wakes waiting leases and tails empty, releases files. Idempotent. */
  close(): Promise<void>;
}

/** An event ready to append: validated, `id` and `time` filled in, serialised once. */
export interface NewEvent {
  readonly id: string;
  readonly source: string;
  /** The `partitionkey` attribute, or null. */
  readonly key: string | null;
  /** Structured CloudEvent JSON (a non-empty object), without router metadata. */
  readonly body: string;
  /**
   * The `correlationid` attribute when it is a string, else null. Undefined: the engine
   * reads it from `body`, only on topics indexed by `correlationid`.
   */
  readonly correlationId?: string | null;
  /**
   * The `subject` attribute when it is a string, else null. Undefined: the engine reads it
   * from `body`, only on topics indexed by `subject`.
   */
  readonly subject?: string | null;
}

/** The longest `subject` (UTF-8 bytes) an event may carry on a topic indexed by `subject`. */
export const SUBJECT_MAX_BYTES = 1024;

export interface AppendCondition {
  /**
   * Every event carries one `subject`, whose stream must be at this version (0 = no stream
   * yet). Dedupe runs first: a call whose events all repeat one earlier append resolves with
   * their original results (`duplicate: true`); otherwise a stream at any other version, or
   * a call mixing repeats with new events, rejects with `version_conflict` (`details:
   * { currentVersion }`) and appends nothing. Needs the topic's `subject` index
   * (`index_missing` otherwise, or while it is building). Engines without `atomicBatch`
   * take one event per call (`invalid_request` otherwise).
   */
  readonly expectedVersion?: number;
}

/** Per-event append result, in input order. `error` appears only when `atomicBatch` is false. */
export type Appended =
  | {
      readonly offset: number;
      readonly duplicate: boolean;
      /** On topics indexed by `subject`, for an event carrying one: its version. */
      readonly subjectVersion?: number;
    }
  | { readonly error: SwitchyardError };

export interface LogPage {
  readonly records: readonly LogRecord[];
  /** Last returned offset + 1; on an empty page `max(from, firstOffset)`. */
  readonly next: number;
}

export interface TopicStats {
  readonly events: number;
  readonly bytes: number;
  /** First retained offset; `lastOffset + 1` when the topic holds no events. */
  readonly firstOffset: number;
  /** Last appended offset, 0 before the first append (retention never lowers it). */
  readonly lastOffset: number;
  /** One entry per index in the topic's config; absent when it has none. */
  readonly indexes?: { readonly [index in TopicIndex]?: IndexState };
}

/**
 * An index is `building` while it is filled from the events the topic held when it was
 * added (`remaining` of them still to go); reads that need it answer `index_missing` until
 * it is `ready`.
 */
export interface IndexState {
  readonly state: "building" | "ready";
  readonly remaining: number;
}

/** `EventLog.readSubject`: one subject's stream. */
export interface SubjectPage {
  /** In version order; events removed by retention are absent. */
  readonly records: readonly LogRecord[];
  /** The stream's current version: its appended events, never lowered by retention; 0 if none. */
  readonly version: number;
  /** The first version still retained (`version + 1` when none is). */
  readonly firstVersion: number;
  /** The last returned version + 1; on an empty page `max(fromVersion, firstVersion)`. */
  readonly next: number;
}

/** `EventLog.flow`: the records of one correlation id, across indexed topics. */
export interface FlowPage {
  /** In append order: by `appendedAt`, then topic name, then offset. */
  readonly records: readonly LogRecord[];
  /** More records exist beyond `limit`. */
  readonly truncated: boolean;
}

export interface RetentionResult {
  readonly deletedEvents: number;
  readonly deletedBytes: number;
}

export interface EventLog {
  /**
   * Creates or replaces a topic's config; never touches its events. The `owner` marker is
   * sticky: a put without it keeps the topic's marker (only `deleteTopic` clears it). A
   * dead-letter topic the engine re-creates itself (someone deleted it) is router-owned.
   */
  putTopic(config: TopicConfig): Promise<{ readonly created: boolean }>;
  getTopic(name: string): Promise<TopicConfig | null>;
  listTopics(): Promise<readonly TopicConfig[]>;
  /**
   * Deletes the topic and its events. Rejects with `topic_in_use` while any subscription
   * reads it (the caller deletes those first). Resolves false for an unknown topic.
   */
  deleteTopic(name: string): Promise<boolean>;
  /**
   * Appends in input order; offsets are contiguous per topic and grow by one per stored event.
   * A repeat of `source`+`id` inside the topic's dedupe window (from an earlier append or
   * earlier in this batch) is not stored: its result carries the original offset and
   * `duplicate: true`. Atomic per call when `capabilities.atomicBatch`. Durable on resolve
   * (per the engine's durability setting). Concurrent calls may share one commit.
   */
  append(
    topic: string,
    events: readonly NewEvent[],
    condition?: AppendCondition,
  ): Promise<readonly Appended[]>;
  /** Up to `limit` records from `from` (a `time` compares with `appendedAt`). */
  read(topic: string, from: LogPosition, limit: number): Promise<LogPage>;
  /** Every record from `from` on, then each new one as it is appended, until `signal` aborts. */
  tail(topic: string, from: LogPosition, signal: AbortSignal): AsyncIterable<LogRecord>;
  stats(topic: string): Promise<TopicStats>;
  /**
   * Up to `limit` records carrying `correlationid` = `correlationId` on the topics indexed by
   * it (events removed by retention are absent). Rejects with `index_missing` naming the
   * topics whose `correlationid` index is still building. Reads the index, never the log.
   */
  flow(correlationId: string, limit: number): Promise<FlowPage>;
  /**
   * Up to `limit` records of one subject's stream from `fromVersion` on, on a topic indexed
   * by `subject` (`index_missing` otherwise, or while it is building). Reads the index,
   * never scans the topic. An unknown subject answers version 0 and no records.
   */
  readSubject(
    topic: string,
    subject: string,
    fromVersion: number,
    limit: number,
  ): Promise<SubjectPage>;
  /** Applies every topic's retention now; engines also do this in the background. */
  enforceRetention(): Promise<RetentionResult>;
}

export interface LeaseRequest {
  /** At most this many deliveries (also bounded by the subscription's `maxInFlight`). */
  readonly max: number;
  /** Wait up to this long for at least one delivery; 0 answers at once. */
  readonly waitMs: number;
  /** Lease length; the subscription's `ackTimeoutMs` when absent. */
  readonly leaseMs?: number;
  readonly signal?: AbortSignal;
}

export interface Delivery {
  readonly ackId: string;
  /** 1 on first delivery, +1 on each redelivery; never above the subscription's `maxAttempts`. */
  readonly attempt: number;
  readonly record: LogRecord;
}

export type SettleStatus = "ok" | "unknown" | "expired";

export interface Settled {
  readonly ackId: string;
  /**
   * `ok`: settled now, durably. `expired`: the ackId was superseded (redelivered under a new
   * lease, or the subscription was seeked). `unknown`: no outstanding delivery has that ackId
   * (already settled, never issued, or dead-lettered).
   */
  readonly status: SettleStatus;
  /**
   * On an `ok` ack: when the event was appended (epoch ms), for the append → ack latency
   * metric. Absent when the engine cannot tell cheaply (e.g. the original is gone).
   */
  readonly appendedAt?: number;
}

export interface RedriveRequest {
  /** Only dead letters of events with these ids. */
  readonly ids?: readonly string[];
  /** Only dead letters matching this filter (over the original event's attributes). */
  readonly filter?: Filter;
  readonly limit?: number;
  /** Count what would move; move nothing. */
  readonly dryRun?: boolean;
}

export interface RedriveResult {
  readonly matched: number;
  /** Distinct ordering keys among the matched events (events without a key count as none). */
  readonly keys: number;
  readonly moved: number;
}

export interface SubscriptionStats {
  /** The next offset the subscription will consider. */
  readonly position: number;
  /** Events not yet acked: waiting beyond the position, leased, or waiting for redelivery. */
  readonly lag: number;
  readonly inFlight: number;
  readonly delivered: number;
  readonly acked: number;
  readonly deadLettered: number;
  /** Age of the oldest event handed out and not yet acked; 0 when none. */
  readonly oldestUnackedAgeMs: number;
}

/**
 * One push attempt as the attempt log keeps it. The dispatcher passes the records of the
 * attempts it settles to `ack`/`nack`/`reject`, and the engine stores them in the same commit
 * as the settle, so the log never disagrees with the delivery state.
 */
export interface AttemptRecord {
  readonly eventId: string;
  readonly offset: number;
  readonly attempt: number;
  /** When the attempt started, epoch milliseconds. */
  readonly at: number;
  /** The HTTP status, or null when no response came (connection error, timeout, refused endpoint). */
  readonly status: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
  /** The first bytes of the response body, as the dispatcher capped them. */
  readonly response: string | null;
}

export interface AttemptQuery {
  /** Only attempts of the event with this id. */
  readonly eventId?: string;
  /** Newest first, at most this many. */
  readonly limit: number;
}

export interface CursorStore {
  /**
   * Creates (position from `config.start`) or updates a subscription. An update keeps the
   * position and outstanding deliveries; a changed filter applies to events not yet handed
   * out. Rejects with `topic_not_found` (topic or dead-letter topic missing) or
   * `subscription_topic_changed`.
   */
  putSubscription(config: SubscriptionConfig): Promise<{ readonly created: boolean }>;
  getSubscription(name: string): Promise<SubscriptionConfig | null>;
  /** All subscriptions, or those reading `topic`. */
  listSubscriptions(topic?: string): Promise<readonly SubscriptionConfig[]>;
  deleteSubscription(name: string): Promise<boolean>;
  /**
   * Hands out deliveries: first redeliveries that are due (expired leases, elapsed nack
   * delays, redriven events), then new events past the position that match the filter
   * (events that do not match count as acked). Never two in-flight events of one key when
   * `ordering` is "key"; different keys flow in parallel. An event whose next attempt would
   * exceed `maxAttempts` is dead-lettered (reason "max attempts exceeded") instead.
   */
  lease(sub: string, req: LeaseRequest): Promise<readonly Delivery[]>;
  /**
   * `attempts` (push delivery): records appended to the subscription's attempt log in the
   * same commit as the settle, whatever each ackId's status. Likewise for `nack` and `reject`.
   */
  ack(
    sub: string,
    ackIds: readonly string[],
    attempts?: readonly AttemptRecord[],
  ): Promise<readonly Settled[]>;
  /** Redelivers after `delayMs`, or after the subscription's backoff for the attempt when null. */
  nack(
    sub: string,
    ackIds: readonly string[],
    delayMs: number | null,
    attempts?: readonly AttemptRecord[],
  ): Promise<readonly Settled[]>;
  /**
   * Hands back deliveries that never reached a client (the pull response or stream frame
   * was not written to an open connection): an attempt counts only once a client received
   * it. Each released delivery returns to the queue as if never leased: it is leasable again
   * at once, with the same `attempt` (a release never counts toward `maxAttempts`), ahead of
   * later events of its key under `ordering: "key"` (the key is no longer held by a lease,
   * and goes to this event again); it no longer counts as in flight, and `delivered` drops
   * by one (stats count deliveries clients received). Statuses: `ok` released now; otherwise
   * as for `ack` (`unknown` for a released, settled, dead-lettered or never issued ackId,
   * `expired` for a superseded one), and nothing changes. A released ackId settles as
   * `unknown` until the event is leased again; the next lease's ackId supersedes it (it may
   * be the same string on engines whose ackIds name the attempt, such as NATS).
   */
  release(sub: string, ackIds: readonly string[]): Promise<readonly Settled[]>;
  /** Renews each lease to now + `leaseMs` (the subscription's `ackTimeoutMs` when absent). */
  extend(sub: string, ackIds: readonly string[], leaseMs?: number): Promise<readonly Settled[]>;
  /**
   * Appends each event to the dead-letter topic with `deadletterreason`,
   * `deadlettersubscription`, `deadletterattempts` and `deadletteroffset` attributes (its
   * `partitionkey` kept, the topic's dedupe skipped) and settles it, in one commit.
   */
  reject(
    sub: string,
    ackIds: readonly string[],
    reason: string,
    attempts?: readonly AttemptRecord[],
  ): Promise<readonly Settled[]>;
  /**
   * Moves this subscription only: outstanding ackIds become `expired`, attempts and nack
   * delays are cleared, events before the new position count as acked. Returns the position.
   */
  seek(sub: string, to: StartPosition): Promise<number>;
  /**
   * Re-enqueues dead letters of this subscription (from its dead-letter topic) into it as
   * the original events, in original order per key, with attempt 1. Each dead-lettering is
   * redriven at most once. Never appends to the source topic.
   */
  redrive(sub: string, req: RedriveRequest): Promise<RedriveResult>;
  stats(sub: string): Promise<SubscriptionStats>;
  /**
   * The subscription's dead letters not yet redriven whose copy its dead-letter topic still
   * retains: what a redrive without a filter would find, so 0 right after one. Rejects with
   * `subscription_not_found`.
   */
  deadLetterDepth(sub: string): Promise<number>;
  /**
   * Whether this node reports the subscription's gauges in `/metrics`: always on a
   * single-router engine; on a shared cluster only on the node that owns the subscription
   * (call after `stats`, which settles who owns it), so a sum across nodes counts it once.
   */
  reportsGauges(sub: string): boolean;
  /**
   * The subscription's attempt log, newest first. Retention is bounded: the engine keeps at
   * least the most recent 1,000 attempts per subscription (more by its own setting) and drops
   * the log with the subscription. Rejects with `subscription_not_found`.
   */
  attempts(sub: string, query: AttemptQuery): Promise<readonly AttemptRecord[]>;
}

/** A catalog record's value: a JSON object, stored as its JSON text (at most `CATALOG_MAX_VALUE_BYTES`). */
export type CatalogValue = { readonly [field: string]: unknown };

export interface CatalogEntry {
  readonly key: string;
  readonly value: CatalogValue;
  /** Store-wide, strictly increasing, never reused (not even after a restart or a delete). */
  readonly revision: number;
  /** When this revision was written, epoch milliseconds. */
  readonly updatedAt: number;
  /** When the record stops being visible, epoch milliseconds; null when it never expires. */
  readonly expiresAt: number | null;
}

export interface CatalogPutOptions {
  /**
   * Compare-and-set: 0 = the record must not exist (an expired record counts as absent);
   * n = the record must be at revision n. Absent = unconditional. A mismatch rejects with
   * `revision_conflict` and writes nothing.
   */
  readonly expectedRevision?: number;
  /** The record expires this long after the write; absent = never. */
  readonly ttlMs?: number;
}

export interface CatalogDeleteOptions {
  /** The record must be at this revision, else `revision_conflict` and nothing is deleted. */
  readonly expectedRevision?: number;
}

/** A write seen by a watcher: `value` null for a delete (an expiry's purge included). */
export interface CatalogChange {
  readonly type: "change";
  readonly kind: string;
  readonly key: string;
  readonly revision: number;
  readonly value: CatalogValue | null;
  readonly updatedAt: number;
  readonly expiresAt: number | null;
}

/**
 * "Every change of this kind committed before `at` has been yielded." The first one follows
 * the initial state; then one comes at least every `CATALOG_SYNC_MS` for as long as the
 * engine can confirm the watch is current. A caller whose last `synced.at` is older than
 * its bound (access control: 5 s) knows its view is stale: the store is unreachable or the
 * watch lags.
 */
export interface CatalogSynced {
  readonly type: "synced";
  readonly at: number;
}

export type CatalogEvent = CatalogChange | CatalogSynced;

/** Kinds: `[a-z][a-z0-9-]{0,31}`. */
export const CATALOG_KIND_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** Keys map onto NATS KV keys: `[-/_=.a-zA-Z0-9]`, no leading, trailing or doubled dot. */
export const CATALOG_KEY_PATTERN = /^(?!\.)(?!.*\.\.)[-/_=.a-zA-Z0-9]{1,512}(?<!\.)$/;
/**
 * The largest value, as JSON text in UTF-8 bytes: 512 KiB, so that a record with its
 * envelope stays below NATS's default 1 MiB message limit (a schema is at most 256 KiB).
 */
export const CATALOG_MAX_VALUE_BYTES = 512 * 1024;
/** A healthy watch yields `synced` at least this often. */
export const CATALOG_SYNC_MS = 1_000;

/**
 * Small versioned records shared by every node (API keys, dashboard sessions, redrive jobs,
 * schemas), grouped by `kind`. Bad kinds, keys or values (not a JSON object, too big, a bad
 * `ttlMs` or `expectedRevision`) reject with `invalid_request` and write nothing. Expired
 * records are invisible to `get`, `list` and a watch's initial state; the engine deletes
 * them in the background (watchers then see the delete). Expiry compares with the clock of
 * the node that reads, so nodes should keep their clocks in sync.
 */
export interface Catalog {
  get(kind: string, key: string): Promise<CatalogEntry | null>;
  /** The live records of `kind` whose key starts with `prefix`, in key order. */
  list(kind: string, prefix?: string): Promise<readonly CatalogEntry[]>;
  /** Writes the record; resolves with its new revision once durable. */
  put(kind: string, key: string, value: CatalogValue, options?: CatalogPutOptions): Promise<number>;
  /** Resolves whether a live record existed (and is now deleted). */
  delete(kind: string, key: string, options?: CatalogDeleteOptions): Promise<boolean>;
  /**
   * The live records of `kind` as changes (in revision order), then `synced`, then every
   * later change (puts and deletes) in revision order, interleaved with `synced` markers, until `signal` aborts or
   * the engine closes (then the iteration ends).
   */
  watch(kind: string, signal: AbortSignal): AsyncIterable<CatalogEvent>;
}

/** API.md "Scheduled events": at most this many pending events per topic. */
export const MAX_PENDING_PER_TOPIC = 1_000_000;

/** An event to append later: its `body` carries the `deliverat` attribute it keeps when stored. */
export interface PendingEvent {
  readonly event: NewEvent;
  /** When it is due, epoch milliseconds. */
  readonly deliverAt: number;
}

/** `ScheduleStore.schedule` result, in input order. */
export interface Scheduled {
  /** The pending event's due time: the original one for a duplicate. */
  readonly deliverAt: number;
  /** A pending event with this `source` and `id` already exists (whatever the dedupe window). */
  readonly duplicate: boolean;
}

export interface ScheduledRecord {
  readonly id: string;
  readonly source: string;
  readonly deliverAt: number;
  /** The structured CloudEvent JSON, as it will be stored. */
  readonly body: string;
}

export interface ScheduledPage {
  /** In `deliverAt` order (ties in an order of the engine's, stable across pages). */
  readonly records: readonly ScheduledRecord[];
  /** Opaque; pass as `after` for the next page. Null on the last page. */
  readonly next: string | null;
}

export interface FireResult {
  /** Events appended by this call. */
  readonly fired: number;
  /** The earliest `deliverAt` still pending in the topic after this call, or null. */
  readonly next: number | null;
}

/** `cancel`: `ambiguous` when no `source` was given and several pending events have the id. */
export type CancelResult = "cancelled" | "not_found" | "ambiguous";

/**
 * Pending scheduled events, per topic. Firing and cancelling are decided atomically: an
 * event is either cancelled (never appended) or appended exactly once, never both. The
 * store survives a restart of the engine (and, on a cluster, the loss of a node). Deleting
 * a topic drops its pending events.
 */
export interface ScheduleStore {
  /**
   * Whether several routers share this store (a cluster): then they must agree which one
   * fires. False on an engine one router holds by design (its store lock): it fires alone.
   */
  readonly shared: boolean;
  /**
   * Stores the events (all or none). A repeat of a pending `source`+`id` (earlier or in
   * this call) is a duplicate and stores nothing. Rejects with `topic_not_found`, or
   * `rate_limited` when the topic would hold more than `MAX_PENDING_PER_TOPIC` pending.
   */
  schedule(topic: string, events: readonly PendingEvent[]): Promise<readonly Scheduled[]>;
  /** Up to `limit` pending events after the page token `after` (null: from the first). */
  list(topic: string, limit: number, after: string | null): Promise<ScheduledPage>;
  /** Removes a pending event; `source` null matches any source. */
  cancel(topic: string, id: string, source: string | null): Promise<CancelResult>;
  /** The earliest `deliverAt` of every topic holding pending events. */
  due(): Promise<ReadonlyMap<string, number>>;
  /**
   * Appends up to `limit` of the topic's events due at `now` or earlier, in `deliverAt`
   * order, skipping the topic's dedupe window, and removes them from the store. Each append
   * carries the event's deterministic message id (`scheduledMessageId`), so a firing
   * repeated by another node or after a crash appends nothing more. Resolves how many
   * were appended and when the next one is due. Concurrent calls append each event once; the order among them is kept
   * only when one caller fires a topic (the broker's scheduler does).
   */
  fire(topic: string, now: number, limit: number): Promise<FireResult>;
  /**
   * Calls `listener` with the due time of each event accepted on another node of a shared
   * store, as soon as this node learns of it (the scheduler arms its timer at once). Absent
   * where one router accepts every event. Returns the unsubscribe.
   */
  onDue?(listener: (topic: string, deliverAt: number) => void): () => void;
  /**
   * Erases what the store still keeps of fired and cancelled events once nothing needs it
   * (a shared store's delete markers). Absent where removing a pending event leaves nothing.
   * The scheduler's firing node calls it now and then.
   */
  prune?(): Promise<void>;
}
