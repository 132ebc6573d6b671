/**
 * Projections (CQRS read models): a subscription's events applied to tables in the
 * application's database, each event's writes committed in the same transaction as its
 * checkpoint, and acked only after that commit. A crash before the commit leaves neither (the
 * redelivery applies the event); a crash after it leaves both (the redelivery finds the
 * checkpoint and is acked without running the handler again).
 */
import type { StoredEvent } from "../core/event.js";
import type { Filter } from "../core/filter.js";
import type { SwitchyardClient } from "./client.js";
import { clientError, Reject, SwitchyardClientError } from "./errors.js";
import type { AnyEvents } from "./event-map.js";
import { ApplyQueue } from "./projection-queue.js";
import {
  type ApplyOutcome,
  applyEvents,
  beginGeneration,
  highestApplied,
  openProjection,
  type ProjectionStore,
  swapGeneration,
  type Target,
} from "./projection-store.js";
import type { Subscription } from "./resources.js";
import type { Subscriber } from "./subscriber.js";

/** Applies one event through `tx`, the store's transaction handle; may be sync or async. */
export type ProjectionHandler<Tx> = (event: StoredEvent, tx: Tx) => unknown;

/** The subscription to consume: created from `topic` (and `filter`), or an existing one by name. */
export type ProjectionSubscription =
  | string
  | {
      readonly topic: string;
      readonly filter?: Filter;
      /** Default 1,000, the router's most: a dead-lettered event is one the read model misses. */
      readonly maxAttempts?: number;
      readonly ackTimeoutMs?: number;
    };

export interface ProjectionOptions<Tx, M extends object = AnyEvents> {
  readonly client: SwitchyardClient<M>;
  /** `[a-zA-Z0-9_-]{1,32}`: names the checkpoint rows and the subscriptions. */
  readonly name: string;
  readonly subscription: ProjectionSubscription;
  readonly store: ProjectionStore<Tx>;
  /** By event `type`; `"*"` takes the types without a handler of their own. */
  readonly handlers: Readonly<Record<string, ProjectionHandler<Tx>>>;
  /**
   * An event no handler takes: "skip" (default) checkpoints and acks it, "reject" sends it
   * to the dead-letter topic.
   */
  readonly unhandled?: "skip" | "reject";
  /** Live deliveries held at once (default 100). */
  readonly concurrency?: number;
  /** Rebuild deliveries held at once (default 1,000). */
  readonly rebuildConcurrency?: number;
  /** Events per store transaction at most (default 500). */
  readonly batchSize?: number;
  /** Background trouble: disconnects, handler failures (their events are redelivered). */
  readonly onError?: (error: unknown) => void;
}

export interface RebuildProgress {
  /** Events the rebuild has handled so far. */
  readonly applied: number;
  /** `applied` plus what the temporary subscription still has to deliver. */
  readonly total: number;
  readonly eventsPerSecond: number;
}

export interface RebuildOptions {
  /** Called at least every second while the rebuild runs, and once at the end. */
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Rebuild from what retention left when the topic's first events are gone (default false). */
  readonly allowPartial?: boolean;
}

export interface ProjectionStatus {
  readonly state: "running" | "rebuilding" | "stopped";
  /** The highest offset applied to the live tables that this process knows of. */
  readonly checkpoint: number;
  /** The live subscription's lag when last asked (every second while running). */
  readonly lag?: number;
}

export interface Projection {
  readonly name: string;
  /** The live subscription's name. */
  readonly subscription: string;
  /** Creates the subscription (when given a topic) and the tables if missing, then consumes. */
  start(): Promise<void>;
  /** Stops consuming, waiting for the events being applied. */
  stop(): Promise<void>;
  /**
   * Replays the topic into fresh tables through a temporary subscription while the live
   * tables keep serving (and the live projection keeps running), then swaps them in one
   * transaction once the fresh ones hold everything the live ones do.
   */
  rebuild(options?: RebuildOptions): Promise<void>;
  status(): ProjectionStatus;
}

const NAME = /^[a-zA-Z0-9_-]{1,32}$/;
const POLL_MS = 200;

interface Consumer {
  readonly subscriber: Subscriber;
  readonly queue: ApplyQueue;
  handled: number;
}

export function projection<Tx, M extends object = AnyEvents>(
  options: ProjectionOptions<Tx, M>,
): Projection {
  const { name, store, handlers } = options;
  if (!NAME.test(name))
    throw clientError(
      "invalid_name",
      `projection name ${JSON.stringify(name)} must match [a-zA-Z0-9_-]{1,32}`,
    );
  // Any client will do: deliveries are read as stored events, whatever the client's map.
  const client = options.client as unknown as SwitchyardClient;
  const admin = client.admin;
  const spec = options.subscription;
  const liveName = typeof spec === "string" ? spec : `projection-${name}`;
  const report =
    options.onError ?? ((error: unknown) => console.warn(`switchyard projection ${name}:`, error));

  let live: Consumer | undefined;
  let starting: Promise<void> | undefined;
  let rebuilding = false;
  let checkpoint = 0;
  let lag: number | undefined;
  let lagTimer: ReturnType<typeof setInterval> | undefined;

  const handlerOf = (type: string): ProjectionHandler<Tx> | undefined =>
    Object.hasOwn(handlers, type)
      ? handlers[type]
      : Object.hasOwn(handlers, "*")
        ? handlers["*"]
        : undefined;

  const dispatch = (event: StoredEvent, tx: Tx): unknown => handlerOf(event.type)?.(event, tx);

  /** The live subscription's settings, creating it from the topic when so configured. */
  const subscription = async (): Promise<Subscription> => {
    if (typeof spec === "string") return admin.subscriptions.get(spec);
    // Key ordering keeps each entity's events (one `partitionkey`) in order, which the
    // handlers' updates rely on and which makes a per-key checkpoint exact.
    const { subscription: created } = await admin.subscriptions.put(liveName, {
      topic: spec.topic,
      filter: spec.filter ?? null,
      start: "earliest",
      ordering: "key",
      maxAttempts: spec.maxAttempts ?? 1_000,
      ...(spec.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: spec.ackTimeoutMs }),
    });
    return created;
  };

  const consume = (
    subscriptionName: string,
    target: Target,
    perKey: boolean,
    concurrency: number,
  ): Consumer => {
    const queue = new ApplyQueue(async (events) => {
      const { outcomes } = await applyEvents(store, name, target, perKey, events, dispatch);
      if (target.kind === "live")
        for (const event of events) checkpoint = Math.max(checkpoint, event.offset);
      return outcomes;
    }, options.batchSize ?? 500);
    const consumer: Consumer = {
      queue,
      handled: 0,
      subscriber: client.subscribe(
        subscriptionName,
        async (delivery): Promise<ApplyOutcome> => {
          const event = delivery.event as StoredEvent;
          if (handlerOf(event.type) === undefined && options.unhandled === "reject")
            throw new Reject(`projection ${name} has no handler for type ${event.type}`);
          const outcome = await queue.submit(event);
          consumer.handled++;
          return outcome;
        },
        { concurrency, onError: report, onHandlerError: (error) => report(error) },
      ),
    };
    return consumer;
  };

  const pollLag = async (): Promise<void> => {
    try {
      lag = (await admin.subscriptions.get(liveName)).stats?.lag;
    } catch (error) {
      report(error);
    }
  };

  const start = async (): Promise<void> => {
    const config = await subscription();
    const { live: generation } = await openProjection(store, name);
    checkpoint = Math.max(checkpoint, await highestApplied(store, name, generation));
    const consumer = consume(
      liveName,
      { kind: "live" },
      config.ordering === "key",
      options.concurrency ?? 100,
    );
    await consumer.subscriber.ready;
    live = consumer;
    lagTimer = setInterval(() => void pollLag(), 1_000);
    lagTimer.unref();
  };

  const stop = async (): Promise<void> => {
    await starting?.catch(() => {});
    starting = undefined;
    clearInterval(lagTimer);
    const consumer = live;
    live = undefined;
    await consumer?.subscriber.close();
    await consumer?.queue.idle();
  };

  const rebuild = async (rebuildOptions: RebuildOptions = {}): Promise<void> => {
    if (rebuilding) throw clientError("conflict", `projection ${name} is already rebuilding`);
    rebuilding = true;
    let temporary: { readonly name: string; readonly consumer?: Consumer } | undefined;
    try {
      const config = typeof spec === "string" ? await admin.subscriptions.get(spec) : undefined;
      const topicName = config?.topic ?? (typeof spec === "string" ? "" : spec.topic);
      const topic = await admin.topics.get(topicName);
      const firstOffset = topic.stats?.firstOffset ?? 1;
      if (firstOffset > 1 && rebuildOptions.allowPartial !== true)
        throw retentionGap(topicName, firstOffset);
      await openProjection(store, name);
      const { building, abandoned } = await beginGeneration(store, name);
      if (abandoned !== null) await deleteSubscription(rebuildName(name, abandoned));
      const perKey = config === undefined || config.ordering === "key";
      const tempName = rebuildName(name, building);
      const rebuildConcurrency = Math.min(
        100_000,
        Math.max(1, options.rebuildConcurrency ?? 1_000),
      );
      temporary = { name: tempName };
      await admin.subscriptions.put(tempName, {
        topic: topicName,
        filter: config?.filter ?? (typeof spec === "string" ? null : (spec.filter ?? null)),
        start: "earliest",
        ordering: perKey ? "key" : "none",
        maxAttempts:
          config?.maxAttempts ?? (typeof spec === "string" ? 1_000 : (spec.maxAttempts ?? 1_000)),
        // The router hands out no more than this at once: as many as the consumer holds.
        maxInFlight: rebuildConcurrency,
      });
      const consumer = consume(
        tempName,
        { kind: "building", generation: building },
        perKey,
        rebuildConcurrency,
      );
      temporary = { name: tempName, consumer };
      await consumer.subscriber.ready;
      const started = Date.now();
      let reported = started;
      const progress = (remaining: number): RebuildProgress => {
        const seconds = Math.max(0.001, (Date.now() - started) / 1_000);
        return {
          applied: consumer.handled,
          total: consumer.handled + remaining,
          eventsPerSecond: Math.round(consumer.handled / seconds),
        };
      };
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const stats = (await admin.subscriptions.get(tempName)).stats;
        const remaining = (stats?.lag ?? 0) + (stats?.inFlight ?? 0);
        if (Date.now() - reported >= 1_000 - POLL_MS / 2) {
          reported = Date.now();
          rebuildOptions.onProgress?.(progress(remaining));
        }
        // Caught up: everything appended so far is applied. The swap still checks that the
        // fresh tables hold every event the live ones do, and says no while they do not.
        if (remaining === 0 && consumer.queue.pending === 0 && stats !== undefined) {
          if (
            await swapGeneration(
              store,
              name,
              building,
              rebuildOptions.allowPartial ? firstOffset : 1,
            )
          )
            break;
        }
      }
      checkpoint = Math.max(checkpoint, await highestApplied(store, name, building));
      rebuildOptions.onProgress?.(progress(0));
    } finally {
      await temporary?.consumer?.subscriber.close({ timeoutMs: 5_000 });
      if (temporary) await deleteSubscription(temporary.name);
      rebuilding = false;
    }
  };

  const deleteSubscription = async (subscriptionName: string): Promise<void> => {
    try {
      await admin.subscriptions.delete(subscriptionName);
    } catch (error) {
      if (!(error instanceof SwitchyardClientError && error.code === "subscription_not_found"))
        throw error;
    }
  };

  return {
    name,
    subscription: liveName,
    start() {
      if (live !== undefined) return Promise.resolve();
      starting ??= start().catch((error: unknown) => {
        starting = undefined;
        throw error;
      });
      return starting;
    },
    stop,
    rebuild,
    status: () => ({
      state: rebuilding ? "rebuilding" : live !== undefined ? "running" : "stopped",
      checkpoint,
      ...(lag === undefined || live === undefined ? {} : { lag }),
    }),
  };
}

/** At most 11 + 32 + 9 + digits: within the 64 of a subscription name. */
function rebuildName(name: string, generation: number): string {
  return `projection-${name}-rebuild-${generation}`;
}

/** `conflict` with `reason: "retention_gap"`: the replay would start after lost events. */
function retentionGap(topic: string, firstOffset: number): SwitchyardClientError {
  return new SwitchyardClientError({
    status: 409,
    code: "conflict",
    title: "Conflict",
    detail:
      `topic ${topic} starts at offset ${firstOffset}: retention removed its first ` +
      `${firstOffset - 1} events, so a rebuild cannot replay them (allowPartial: true rebuilds from what is left)`,
    reason: "retention_gap",
    firstOffset,
  });
}
