import { type Clock, systemClock } from "../core/clock.js";
import type { SubscriptionConfig, TopicIndex } from "../core/config.js";
import { LIMITS } from "../core/config.js";
import { failValidation, SwitchyardError } from "../core/errors.js";
import { assertTopicName } from "../core/names.js";
import type { LogPosition, StartPosition } from "../core/positions.js";
import type { SecretKeyRing } from "../core/secret-box.js";
import type {
  AppendCondition,
  Appended,
  Delivery,
  Engine,
  EngineCapabilities,
  FlowPage,
  LogPage,
  NewEvent,
  Settled,
  SubjectPage,
} from "../engine/engine.js";
import { type Actor, AuditTrail, redriveAuditWriter } from "./audit.js";
import { deliverTimes } from "./deliverat.js";
import {
  type PullRequest,
  parsePullRequest,
  parseRedriveRequest,
  parseSeekRequest,
  parseSettleRequest,
  type SettleOp,
} from "./delivery-requests.js";
import { type Log, silentLog } from "./log.js";
import { BrokerMetrics, type MetricsFactory } from "./metrics.js";
import { type PreparedBatch, prepareEvents, type SchemaCheck } from "./publish.js";
import { type AttemptView, parseAttemptQuery, parsePauseRequest } from "./push/api.js";
import { PushDispatchers, type PushOptions } from "./push/dispatchers.js";
import { PushSecrets } from "./push-secrets.js";
import { type RedriveAudit, type RedriveJob, RedriveJobs, type RedriveStarted } from "./redrive.js";
import { parseRedrivePacing, type RedriveOrigin } from "./redrive-pacing.js";
import { markDeadLetterTopics } from "./router-topics.js";
import { type ScheduledPageView, scheduledPageView } from "./scheduled-view.js";
import { Scheduler } from "./scheduler.js";
import { type Discovery, discoverSchema } from "./schemas/discover.js";
import { type PublicUrlSettings, SchemaEnforcement } from "./schemas/enforcement.js";
import { SchemaRegistry } from "./schemas/registry.js";
import { TopicTypes } from "./schemas/topic-types.js";
import { type SubscriptionGauges, Subscriptions } from "./subscriptions.js";
import { Topics } from "./topics.js";
import {
  type RouterTracing,
  type TraceHeaders,
  type TraceStamp,
  transportStamp,
} from "./tracing.js";
import type { SubscriptionView, TopicView } from "./views.js";

export type { Actor, AuditTrail, RefusalReason } from "./audit.js";
export type { SettleOp } from "./delivery-requests.js";
export { BrokerMetrics, type MetricsFactory } from "./metrics.js";
export type { AttemptView } from "./push/api.js";
export type { PushOptions } from "./push/dispatchers.js";
export type { RedriveJob, RedriveStarted } from "./redrive.js";
export type { Discovery } from "./schemas/discover.js";
export type {
  Registered,
  SchemaConfigView,
  SchemaRegistry,
  SchemaSummary,
  SchemaTypeView,
  SchemaVersionView,
} from "./schemas/registry.js";
export type { SubscriptionGauges } from "./subscriptions.js";
export { RouterTracing, type TraceHeaders } from "./tracing.js";
export type { PushState, PushView, SubscriptionView, TopicView } from "./views.js";

export interface BrokerOptions {
  readonly engine: Engine;
  readonly clock?: Clock;
  /** Dev mode: publishing to or subscribing on an unknown topic creates it. */
  readonly autoCreateTopics?: boolean;
  /** The indexes an auto-created topic gets. */
  readonly autoCreateIndexes?: readonly TopicIndex[];
  readonly maxBatchEvents?: number;
  /** Push delivery: `allowPrivateEndpoints` (off unless dev mode or tests), sender tuning. */
  readonly push?: PushOptions;
  /** The keys that seal push secrets and header values in the store. */
  readonly secretKeys: SecretKeyRing;
  /** Where a failed audit append is reported (it never fails the request). */
  readonly onAuditError?: (error: unknown) => void;
  /** Tracing on: spans for publish requests and push attempts. Absent: none at all. */
  readonly tracing?: RouterTracing;
  /** Delivery and redrive lines (push outcomes, dead letters, redrive jobs); silent if absent. */
  readonly log?: Log;
  /** Where the broker's counters and histograms live (the server's registry); none if absent. */
  readonly metrics?: MetricsFactory;
}

/** One entry of a publish answer, in input order. */
export type PublishEntry =
  | {
      readonly id: string;
      readonly offset: number;
      readonly duplicate: boolean;
      readonly subjectVersion?: number;
    }
  /** A scheduled event (API.md "Scheduled events"): appended at `deliverat`, no offset yet. */
  | {
      readonly id: string;
      readonly scheduled: true;
      readonly deliverat: string;
      readonly duplicate: boolean;
    }
  | { readonly id: string; readonly error: SwitchyardError };

/**
 * Whether a request may have an unknown topic created (when auto-create is on): with auth,
 * whether its key holds `manage:` on the name; true without auth. The broker asks it at the
 * moment it would create, so no check made earlier can go stale in between.
 */
export type MayCreateTopic = (topic: string) => boolean;

const ANY_TOPIC: MayCreateTopic = () => true;

export interface PublishResult {
  readonly entries: readonly PublishEntry[];
  /** True when some entry failed (only on engines without atomic batches): HTTP 207. */
  readonly partial: boolean;
}

/**
 * The router's behaviour, and the only thing `server/` and `cli/` call. Request bodies come in
 * as parsed JSON (`unknown`) and are validated here, so every caller gets the same checks and
 * the same pointer-precise errors.
 */
export class Broker {
  readonly metrics: BrokerMetrics;
  /** The audit trail (`switchyard.audit`); the server records key and credential events here. */
  readonly audit: AuditTrail;
  /**
   * The schema registry: the publish path's `SchemaLookup` (this node's watched view) and
   * the admin methods of `/v1/schemas`. `schemas.start()` before serving.
   */
  readonly schemas: SchemaRegistry;
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #maxBatch: number;
  readonly #topics: Topics;
  readonly #subs: Subscriptions;
  readonly #redrives: RedriveJobs;
  readonly #push: PushDispatchers;
  readonly #secrets: PushSecrets;
  readonly #enforcement: SchemaEnforcement;
  readonly #topicTypes: TopicTypes;
  readonly #tracing: RouterTracing | undefined;
  readonly #scheduler: Scheduler;

  constructor(options: BrokerOptions) {
    this.metrics = new BrokerMetrics(options.metrics);
    this.#engine = options.engine;
    this.#clock = options.clock ?? systemClock;
    this.#tracing = options.tracing;
    this.#maxBatch = options.maxBatchEvents ?? LIMITS.maxBatchEvents;
    this.#topics = new Topics(
      this.#engine,
      this.#clock,
      options.autoCreateTopics ?? false,
      options.autoCreateIndexes ?? [],
    );
    this.audit = new AuditTrail(this.#engine, this.#topics, this.#clock, options.onAuditError);
    this.schemas = new SchemaRegistry(this.#engine.catalog, {
      audit: this.audit,
      clock: this.#clock,
    });
    this.#enforcement = new SchemaEnforcement(this.schemas, (topic, reason) =>
      this.metrics.schemaViolations.add(topic, reason),
    );
    this.#secrets = new PushSecrets(options.secretKeys);
    this.#topicTypes = new TopicTypes(this.#engine.log);
    this.#push = new PushDispatchers(this.#engine.cursors, this.#clock, this.#secrets, {
      metrics: this.metrics,
      ...options.push,
      ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    this.#subs = new Subscriptions(
      this.#engine,
      this.#topics,
      this.metrics,
      this.#push,
      this.#secrets,
    );
    this.#scheduler = new Scheduler({
      engine: this.#engine,
      clock: this.#clock,
      log: options.log ?? silentLog,
    });
    this.#redrives = new RedriveJobs(this.#engine, {
      clock: this.#clock,
      audit: loggedRedrives(redriveAuditWriter(this.audit), options.log ?? silentLog),
    });
  }

  get engineName(): string {
    return this.#engine.name;
  }

  get capabilities(): EngineCapabilities {
    return this.#engine.capabilities;
  }

  get maxBatchEvents(): number {
    return this.#maxBatch;
  }

  ready(signal?: AbortSignal): Promise<void> {
    return this.#engine.ready(signal);
  }

  /**
   * Marks every current subscription's dead-letter topic router-owned (a store written before
   * the marker existed has them unmarked); answers how many it marked. Run before serving.
   */
  markDeadLetterTopics(): Promise<number> {
    return markDeadLetterTopics(this.#engine);
  }

  /**
   * Seals again, under the first secret key, stored push configs holding plaintext (a store
   * from before sealing) or values sealed under another key (a rotation); run before serving.
   * Rejects with `SecretKeyError` when a value is sealed under a key not in the list.
   */
  sealStoredSecrets(): Promise<string[]> {
    return this.#secrets.reseal(this.#engine.cursors);
  }

  /** Starts firing scheduled events (on the node that holds the scheduler lease). */
  startScheduler(): Promise<void> {
    return this.#scheduler.start();
  }

  /** Whether this node fires scheduled events now. */
  get firesScheduledEvents(): boolean {
    return this.#scheduler.leader;
  }

  /** A page of the topic's pending scheduled events, in `deliverat` order. */
  async listScheduled(
    topic: string,
    limit: number,
    after: string | null,
  ): Promise<ScheduledPageView> {
    assertTopicName(topic, "path:topic");
    return scheduledPageView(await this.#engine.scheduled.list(topic, limit, after));
  }

  /**
   * Cancels a pending scheduled event: `scheduled_not_found` once it was appended (decided
   * by the engine atomically with firing) or when unknown; `conflict` when `source` is
   * left out and several pending events have the id.
   */
  async cancelScheduled(topic: string, id: string, source: string | null): Promise<void> {
    assertTopicName(topic, "path:topic");
    const result = await this.#engine.scheduled.cancel(topic, id, source);
    if (result === "cancelled") return;
    if (result === "ambiguous")
      throw new SwitchyardError(
        "conflict",
        `several pending events of topic ${topic} have id ${id}; name the one to cancel with ?source=`,
      );
    throw new SwitchyardError(
      "scheduled_not_found",
      `no pending scheduled event ${id}${source === null ? "" : ` from ${source}`} in topic ${topic} (unknown, cancelled or already appended)`,
    );
  }

  /** Starts push delivery: a dispatcher for every push subscription, kept in step from then on. */
  startDispatchers(): Promise<void> {
    return this.#push.start();
  }

  /**
   * The `publicUrl` setting and whether the bind is a wildcard; before serving. Validated
   * events name `{publicUrl}/v1/schemas/…` (the listen URL when unset, see `listening`).
   */
  configurePublicUrl(settings: PublicUrlSettings): void {
    this.#enforcement.configure(settings);
  }

  /** The operator's `publicUrl` setting, when set: the URL clients reach the router on. */
  get publicUrl(): string | undefined {
    return this.#enforcement.publicUrl;
  }

  /** The URL the server listens on, once it does. */
  listening(url: string): void {
    this.#enforcement.listening(url);
  }

  /**
   * The topics that enforce schemas while the router binds a wildcard address without a
   * `publicUrl` (the start refuses while any exist); empty when the settings are usable.
   */
  async topicsEnforcingWithoutPublicUrl(): Promise<string[]> {
    if (!this.#enforcement.publicUrlMissing) return [];
    const topics = await this.#engine.log.listTopics();
    return topics.filter((t) => t.schemas?.mode === "enforce").map((t) => t.name);
  }

  // Topics and the log. `actor`: the request's key, for the audit record.
  async putTopic(
    name: string,
    body: unknown,
    actor: Actor = null,
  ): Promise<{ created: boolean; topic: TopicView }> {
    const put = await this.#topics.put(name, body, (config) => this.#enforcement.vetTopic(config));
    const type = put.created ? "switchyard.topic.created" : "switchyard.topic.updated";
    await this.audit.write(type, name, { topic: put.topic }, actor);
    return put;
  }
  getTopic(name: string): Promise<TopicView> {
    return this.#topics.get(name);
  }
  listTopics(): Promise<TopicView[]> {
    return this.#topics.list();
  }
  async deleteTopic(name: string, force: boolean, actor: Actor = null): Promise<void> {
    await this.#topics.delete(name, force);
    await this.audit.write("switchyard.topic.deleted", name, { force }, actor);
    if (force) await this.#push.reconcile(); // stops dispatchers of subscriptions it deleted
  }
  read(topic: string, from: LogPosition, limit: number): Promise<LogPage> {
    return this.#topics.read(topic, from, limit);
  }

  /** One subject's stream on a topic indexed by `subject` (API.md "Event streams per subject"). */
  readSubject(
    topic: string,
    subject: string,
    fromVersion: number,
    limit: number,
  ): Promise<SubjectPage> {
    return this.#topics.readSubject(topic, subject, fromVersion, limit);
  }

  /** One correlation id's records across topics indexed by `correlationid` (API.md). */
  flow(correlationId: string, limit: number): Promise<FlowPage> {
    return this.#engine.log.flow(correlationId, limit);
  }

  /**
   * A schema proposal for `type` from the newest events of it in a topic; `body` is
   * `{ topic, limit? }`. Registers nothing.
   */
  inferSchema(type: string, body: unknown): Promise<Discovery> {
    return discoverSchema(this.#engine.log, type, body);
  }

  /**
   * The event types among the newest events of each of `topics` (for the AsyncAPI document);
   * a topic deleted meanwhile has none.
   */
  async recentEventTypes(topics: readonly string[]): Promise<Map<string, readonly string[]>> {
    const all = await this.#engine.log.listTopics();
    this.#topicTypes.keepOnly(new Set(all.map((t) => t.name)));
    const found = new Map<string, readonly string[]>();
    for (const topic of topics)
      found.set(
        topic,
        await this.#topicTypes.of(topic).catch((error: unknown) => {
          if (error instanceof SwitchyardError && error.code === "topic_not_found") return [];
          throw error;
        }),
      );
    return found;
  }

  /**
   * Publishes events (already parsed from JSON) to a topic. `batch` selects pointers of the
   * form `/3/source` (a batch) or `/source` (one event). All-or-nothing on invalid input.
   * An unknown topic is created (auto-create on) only if `mayCreateTopic` allows it.
   * `transport` is the request's own W3C trace headers: the parent of the `send` span, or
   * (tracing off) what events without a `traceparent` store.
   */
  publish(
    topic: string,
    events: readonly unknown[],
    batch: boolean,
    mayCreateTopic: MayCreateTopic = ANY_TOPIC,
    transport?: TraceHeaders,
    condition: AppendCondition = {},
  ): Promise<PublishResult> {
    if (this.#tracing === undefined)
      return this.#publish(
        topic,
        events,
        batch,
        mayCreateTopic,
        transportStamp(transport),
        condition,
      );
    const span = this.#tracing.startSend(topic, transport, events);
    return this.#publish(topic, events, batch, mayCreateTopic, span.stamp, condition).then(
      (result) => {
        span.succeed(result.entries.map((e) => e.id));
        return result;
      },
      (error: unknown) => {
        span.fail(error);
        throw error;
      },
    );
  }

  async #publish(
    topic: string,
    events: readonly unknown[],
    batch: boolean,
    mayCreateTopic: MayCreateTopic,
    stamp: TraceStamp | undefined,
    condition: AppendCondition,
  ): Promise<PublishResult> {
    if (events.length > this.#maxBatch)
      throw new SwitchyardError(
        "batch_too_large",
        `${events.length} events in one request; at most ${this.#maxBatch}`,
        { errors: [{ pointer: "", message: `at most ${this.#maxBatch} events` }] },
      );
    const found = this.#topics.publishable(topic, mayCreateTopic);
    const config = found instanceof Promise ? await found : found;
    const now = this.#clock.now();
    const times = deliverTimes(events, batch, now);
    // A scheduled event has no version until it is appended: no condition can hold for it.
    if (times !== null && condition.expectedVersion !== undefined)
      failValidation([
        { pointer: "query:expectedVersion", message: "cannot be combined with deliverat" },
      ]);
    // Once per request: a topic whose mode is off pays nothing more.
    const mode = config.schemas?.mode ?? "off";
    const check: SchemaCheck | undefined =
      mode === "off" ? undefined : (checked) => this.#enforcement.validate(config, checked, batch);
    const prepared = prepareEvents(events, batch, config, this.#clock, check, stamp);
    if (prepared.events.length === 0) return { entries: [], partial: false };
    if (condition.expectedVersion !== undefined) {
      this.#checkConditional(prepared.events);
      const appended = await this.#append(topic, prepared.events, condition);
      return this.#publishResult(topic, prepared, appended);
    }
    // A time in the past appends at once, like an event without one.
    if (times === null || times.every((t) => t === null || t <= now)) {
      const appended = await this.#append(topic, prepared.events);
      return this.#publishResult(topic, prepared, appended);
    }
    return this.#publishScheduling(topic, prepared, times, now);
  }

  /**
   * A request holding events to append later: those are stored pending, the others appended
   * now (two engine calls, so on every engine a failure of the second leaves the first's
   * events in place; a retry dedupes them).
   */
  async #publishScheduling(
    topic: string,
    prepared: PreparedBatch,
    times: readonly (number | null)[],
    now: number,
  ): Promise<PublishResult> {
    const later: number[] = [];
    const atOnce: number[] = [];
    prepared.events.forEach((_, i) => {
      const at = times[i] ?? null;
      (at !== null && at > now ? later : atOnce).push(i);
    });
    const pending = later.map((i) => ({
      event: prepared.events[i] as NewEvent,
      deliverAt: times[i] as number,
    }));
    const scheduled = await this.#engine.scheduled.schedule(topic, pending);
    for (const s of scheduled) if (!s.duplicate) this.#scheduler.noteDue(topic, s.deliverAt);
    const entries: PublishEntry[] = Array.from({ length: prepared.events.length });
    later.forEach((i, j) => {
      const s = scheduled[j];
      if (s === undefined) return;
      entries[i] = {
        id: prepared.events[i]?.id ?? "",
        scheduled: true,
        deliverat: new Date(s.deliverAt).toISOString(),
        duplicate: s.duplicate,
      };
    });
    let partial = false;
    if (atOnce.length > 0) {
      const part: PreparedBatch = {
        events: atOnce.map((i) => prepared.events[i] as NewEvent),
        sizes: atOnce.map((i) => prepared.sizes[i] ?? 0),
      };
      const appended = await this.#append(topic, part.events);
      const result = this.#publishResult(topic, part, appended);
      partial = result.partial;
      atOnce.forEach((i, j) => {
        const entry = result.entries[j];
        if (entry !== undefined) entries[i] = entry;
      });
    }
    return { entries, partial };
  }

  /** API.md "Event streams per subject": one subject per request, one event without atomicBatch. */
  #checkConditional(events: readonly NewEvent[]): void {
    const subject = events[0]?.subject ?? null;
    const pointer = "query:expectedVersion";
    if (subject === null || events.some((e) => e.subject !== subject))
      failValidation([{ pointer, message: "every event must carry the same subject" }]);
    if (events.length > 1 && !this.#engine.capabilities.atomicBatch)
      failValidation([
        {
          pointer,
          message: `takes one event on the ${this.#engine.name} engine (no atomic batches)`,
        },
      ]);
  }

  async #append(
    topic: string,
    events: readonly NewEvent[],
    condition: AppendCondition = {},
  ): Promise<readonly Appended[]> {
    try {
      return await this.#engine.log.append(topic, events, condition);
    } catch (error) {
      // A topic deleted since it was cached.
      if (error instanceof SwitchyardError && error.code === "topic_not_found")
        this.#topics.cache.forget(topic);
      throw error;
    }
  }

  #publishResult(
    topic: string,
    prepared: PreparedBatch,
    appended: readonly Appended[],
  ): PublishResult {
    let partial = false;
    let stored = 0;
    let bytes = 0;
    const entries = appended.map((a, i): PublishEntry => {
      const id = prepared.events[i]?.id ?? "";
      if ("error" in a) {
        partial = true;
        return { id, error: a.error };
      }
      if (a.duplicate) this.metrics.duplicateEvents.add(topic);
      else {
        stored++;
        bytes += prepared.sizes[i] ?? 0;
      }
      return a.subjectVersion === undefined
        ? { id, offset: a.offset, duplicate: a.duplicate }
        : { id, offset: a.offset, duplicate: a.duplicate, subjectVersion: a.subjectVersion };
    });
    if (stored > 0) {
      this.metrics.publishedEvents.add(topic, stored);
      this.metrics.publishedBytes.add(topic, bytes);
    }
    const failure = sharedFailure(appended);
    if (failure !== undefined) throw failure; // nothing stored, one cause: not a partial result
    return { entries, partial };
  }

  // Subscriptions and delivery.
  /** An unknown topic is created (auto-create on) only if `mayCreateTopic` allows it; else 404. */
  async putSubscription(
    name: string,
    body: unknown,
    actor: Actor = null,
    mayCreateTopic: MayCreateTopic = ANY_TOPIC,
  ): Promise<{ created: boolean; subscription: SubscriptionView }> {
    const put = await this.#subs.put(name, body, mayCreateTopic);
    const type = put.created
      ? "switchyard.subscription.created"
      : "switchyard.subscription.updated";
    // The view, never the config: push secrets and header values stay out of the trail.
    await this.audit.write(type, name, { subscription: put.subscription }, actor);
    return put;
  }
  getSubscription(name: string): Promise<SubscriptionView> {
    return this.#subs.get(name);
  }
  /** The stored config, push secrets and header values sealed (never for API answers). */
  subscriptionConfig(name: string): Promise<SubscriptionConfig> {
    return this.#subs.config(name);
  }
  listSubscriptions(): Promise<SubscriptionView[]> {
    return this.#subs.list();
  }
  /** Per-subscription gauges this node reports (on NATS: the subscriptions it owns). */
  subscriptionGauges(): Promise<SubscriptionGauges[]> {
    return this.#subs.reportedGauges();
  }
  async deleteSubscription(name: string, actor: Actor = null): Promise<void> {
    await this.#subs.delete(name);
    await this.audit.write("switchyard.subscription.deleted", name, {}, actor);
  }
  /** `body` is the pull request (`{ max, waitMs }`); `signal` ends a long poll early. */
  pull(name: string, body: unknown, signal?: AbortSignal): Promise<readonly Delivery[]> {
    return this.#subs.pull(name, parsePullRequest(body), signal);
  }
  /** Leases for a stream: `request` is already bounded by the stream's credit. */
  lease(name: string, request: PullRequest, signal?: AbortSignal): Promise<readonly Delivery[]> {
    return this.#subs.pull(name, request, signal);
  }
  /**
   * Hands back deliveries that never reached their client (the response or frame was not
   * written to an open connection), so they burn no attempt. Never rejects: if the release
   * fails, the leases run out and the events are redelivered as usual.
   */
  release(name: string, deliveries: readonly Delivery[]): Promise<void> {
    return this.#subs.release(name, deliveries);
  }
  /** Validates every ackId first: one malformed ackId settles nothing (`invalid_ack_id`). */
  settle(
    name: string,
    op: SettleOp,
    body: unknown,
    extraFields?: readonly string[],
  ): Promise<readonly Settled[]> {
    return this.#subs.settle(name, parseSettleRequest(op, body, extraFields));
  }
  async seek(name: string, body: unknown, actor: Actor = null): Promise<number> {
    const to: StartPosition = parseSeekRequest(body);
    await this.#subs.config(name);
    const position = await this.#subs.seek(name, to);
    await this.audit.write("switchyard.subscription.seeked", name, { to, position }, actor);
    return position;
  }
  /** `seen`: what the server knows of the caller (its key included), for the audit record. */
  async redrive(
    name: string,
    body: unknown,
    seen: Omit<RedriveOrigin, "actor"> = {},
  ): Promise<RedriveStarted> {
    const request = parseRedriveRequest(body);
    const { pacing, actor } = parseRedrivePacing(body);
    await this.#subs.config(name);
    return this.#redrives.start(name, request, pacing, { ...seen, actor });
  }
  /** Stops push delivery until `resume`; in-flight requests finish. Pull subscriptions: 409. */
  async pause(name: string, body: unknown): Promise<SubscriptionView> {
    const { reason } = parsePauseRequest(body);
    return this.#setPaused(name, reason ?? "paused by the API");
  }
  async resume(name: string): Promise<SubscriptionView> {
    return this.#setPaused(name, null);
  }
  async #setPaused(name: string, reason: string | null): Promise<SubscriptionView> {
    const config = await this.#subs.config(name);
    if (config.push === null)
      throw new SwitchyardError(
        "conflict",
        `subscription ${name} is a pull subscription; only push subscriptions pause`,
      );
    await this.#push.setPaused(name, reason);
    return this.#subs.get(name);
  }
  /** The push attempt log, newest first; `query` holds `eventId` and `limit` as strings. */
  async attempts(name: string, query: unknown): Promise<AttemptView[]> {
    const parsed = parseAttemptQuery(query);
    await this.#subs.config(name);
    const records = await this.#engine.cursors.attempts(name, parsed);
    return records.map((r) => ({
      eventId: r.eventId,
      offset: r.offset,
      attempt: r.attempt,
      at: new Date(r.at).toISOString(),
      status: r.status,
      latencyMs: r.latencyMs,
      ...(r.error === null ? {} : { error: r.error }),
      ...(r.response === null ? {} : { response: r.response }),
    }));
  }
  async getRedrive(name: string, id: string): Promise<RedriveJob> {
    await this.#subs.config(name);
    return this.#redrives.get(name, id);
  }

  /** Waits for background work (redrives), stops watches; the engine's owner closes the engine after. */
  async close(): Promise<void> {
    await this.#scheduler.stop();
    await this.#push.close();
    await this.#redrives.drain();
    await this.schemas.close();
  }
}

/** The error when every event of a batch failed with one code (e.g. a full store), else undefined. */
function sharedFailure(appended: readonly Appended[]): SwitchyardError | undefined {
  const first = appended[0];
  if (first === undefined || !("error" in first)) return undefined;
  const code = first.error.code;
  return appended.every((a) => "error" in a && a.error.code === code) ? first.error : undefined;
}

/** Redrive jobs log where they start and how they end, beside the audit entry they write. */
function loggedRedrives(
  audit: (entry: RedriveAudit) => Promise<void>,
  log: Log,
): (entry: RedriveAudit) => Promise<void> {
  return async (entry) => {
    await audit(entry);
    const { job } = entry;
    const fields = {
      subscription: job.subscription,
      redrive: job.id,
      state: job.state,
      matched: job.matched,
      keys: job.keys,
      moved: job.moved,
      ...(job.error === undefined ? {} : { error: job.error }),
    };
    if (entry.event === "started") log.info(fields, "redrive started");
    else if (job.state === "failed") log.warn(fields, "redrive failed");
    else log.info(fields, "redrive finished");
  };
}
