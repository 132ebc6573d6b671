/** `CursorStore` over the SQLite store: every cursor change is a group-commit job. */
import type { SubscriptionConfig } from "../../core/config.js";
import type { StartPosition } from "../../core/positions.js";
import type {
  AttemptQuery,
  AttemptRecord,
  CursorStore,
  Delivery,
  LeaseRequest,
  RedriveRequest,
  RedriveResult,
  Settled,
  SubscriptionStats,
} from "../engine.js";
import { readAttempts } from "./attempts.js";
import type { EngineContext } from "./context.js";
import { hasDueDeliveries } from "./delivery-rows.js";
import { closedError, subscriptionNotFound, toSwitchyardError } from "./errors.js";
import { leaseJob } from "./lease.js";
import { subscriptionKey, topicKey } from "./notifier.js";
import { redrive } from "./redrive.js";
import { releaseJob } from "./release.js";
import { seekJob } from "./seek.js";
import { type SettleOp, settleJob } from "./settle.js";
import { deadLetterDepth, subscriptionStats } from "./stats.js";
import { loadSubscription, loadSubscriptions } from "./subscription-state.js";
import { deleteSubscriptionJob, putSubscriptionJob } from "./subscriptions.js";

/** What `lease` needs of a subscription before its job: fixed until a put or delete commits. */
interface LeaseShape {
  readonly id: number;
  readonly topic: string;
  readonly keyOrdered: boolean;
}

/**
 * A lease may commit without an fsync (group-commit.ts) when losing it in an OS crash only
 * means its events are delivered again: new events (first attempts, nothing dead-lettered)
 * to a subscription not ordered by key. Under key ordering a lost lease would let a later
 * event of the key go out while the lost one may still be in a consumer's hands, so those
 * leases stay fsync'd; so do redeliveries (their attempt counts must hold). Rows falling due
 * between this check and the job wait for the next lease call.
 */
function mayLeaseUnsynced(ctx: EngineContext, shape: LeaseShape): boolean {
  if (shape.keyOrdered) return false;
  const now = ctx.clock.now();
  // A held first lease that ran out is redelivered by the job: a second attempt.
  if (ctx.writer.leases.peek(shape.id)?.hasExpired(now) === true) return false;
  return !hasDueDeliveries(ctx.db, shape.id, now);
}

export class SqliteCursorStore implements CursorStore {
  readonly #ctx: EngineContext;
  /**
   * Each lease call read the subscription's row twice outside any transaction (a read
   * transaction each) before its job; with many small leases (100 subscriptions of one topic,
   * credit 50 each) that was ≈6% of the router's time. Its id, topic and ordering change only
   * when a put or delete of the subscription commits, which drops the entry (in the commit's
   * effects, so no lease sees the old shape after the commit).
   */
  readonly #shapes = new Map<string, LeaseShape>();
  readonly #changed: (sub: string) => void;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    this.#changed = (sub) => {
      this.#shapes.delete(sub);
      ctx.subscriptionChanged(sub);
    };
  }

  /** The committed shape of `sub`, or null when it does not exist (never cached). */
  #shape(sub: string): LeaseShape | null {
    const known = this.#shapes.get(sub);
    if (known !== undefined) return known;
    const state = loadSubscription(this.#ctx.db, sub);
    if (state === null) return null;
    const shape = { id: state.id, topic: state.topic, keyOrdered: state.config.ordering === "key" };
    this.#shapes.set(sub, shape);
    return shape;
  }

  #read<T>(doing: string, read: () => T): Promise<T> {
    if (this.#ctx.isClosed()) return Promise.reject(closedError());
    try {
      return Promise.resolve(read());
    } catch (error) {
      return Promise.reject(toSwitchyardError(error, doing));
    }
  }

  putSubscription(config: SubscriptionConfig): Promise<{ readonly created: boolean }> {
    return this.#ctx.writer.submit(1, (tx) => putSubscriptionJob(tx, config, this.#changed));
  }

  getSubscription(name: string): Promise<SubscriptionConfig | null> {
    return this.#read(
      "reading a subscription",
      () => loadSubscription(this.#ctx.db, name)?.config ?? null,
    );
  }

  listSubscriptions(topic?: string): Promise<readonly SubscriptionConfig[]> {
    return this.#read("listing subscriptions", () =>
      loadSubscriptions(this.#ctx.db, topic).map((s) => s.config),
    );
  }

  deleteSubscription(name: string): Promise<boolean> {
    return this.#ctx.writer.submit(1, (tx) => deleteSubscriptionJob(tx, name, this.#changed));
  }

  async lease(sub: string, req: LeaseRequest): Promise<readonly Delivery[]> {
    const ctx = this.#ctx;
    if (ctx.isClosed()) throw closedError();
    // The wait is real time (a long poll's budget); due moments are the engine clock's.
    const deadline = Date.now() + Math.max(0, req.waitMs);
    const topic = this.#shape(sub)?.topic;
    const keys =
      topic === undefined ? [subscriptionKey(sub)] : [subscriptionKey(sub), topicKey(topic)];
    for (;;) {
      // Versions taken before the job: a wake-up landing between the job and the wait below
      // is seen as a changed version, never lost.
      const seen = ctx.notifier.versions(keys);
      // Read now, in the same tick as the submit: a config change committed later commits
      // after this job too (relaxed jobs run first in their flush: group-commit.ts).
      const shape = this.#shape(sub);
      const newOnly = shape !== null && mayLeaseUnsynced(ctx, shape);
      const outcome = await ctx.writer.submit(
        Math.max(1, req.max),
        (tx) => leaseJob(tx, ctx, sub, req.max, req.leaseMs, newOnly),
        { durable: !newOnly },
      );
      if (outcome.deliveries.length > 0) return outcome.deliveries;
      if (outcome.more) continue;
      const stopped = (): boolean => req.signal?.aborted === true || ctx.isClosed();
      const remaining = deadline - Date.now();
      if (remaining <= 0 || stopped()) return [];
      const dueInMs =
        outcome.nextDueAt === null ? null : Math.max(1, outcome.nextDueAt - ctx.clock.now());
      await ctx.notifier.wait(keys, seen, { waitMs: remaining, dueInMs, signal: req.signal });
      if (stopped()) return [];
    }
  }

  #settle(
    sub: string,
    ackIds: readonly string[],
    op: SettleOp,
    attempts: readonly AttemptRecord[] = [],
  ): Promise<readonly Settled[]> {
    return this.#ctx.writer.submit(Math.max(1, ackIds.length + attempts.length), (tx) =>
      settleJob(tx, this.#ctx, sub, ackIds, op, attempts),
    );
  }

  ack(
    sub: string,
    ackIds: readonly string[],
    attempts?: readonly AttemptRecord[],
  ): Promise<readonly Settled[]> {
    return this.#settle(sub, ackIds, { kind: "ack" }, attempts);
  }

  nack(
    sub: string,
    ackIds: readonly string[],
    delayMs: number | null,
    attempts?: readonly AttemptRecord[],
  ): Promise<readonly Settled[]> {
    return this.#settle(sub, ackIds, { kind: "nack", delayMs }, attempts);
  }

  release(sub: string, ackIds: readonly string[]): Promise<readonly Settled[]> {
    return this.#ctx.writer.submit(Math.max(1, ackIds.length), (tx) =>
      releaseJob(tx, this.#ctx, sub, ackIds),
    );
  }

  extend(sub: string, ackIds: readonly string[], leaseMs?: number): Promise<readonly Settled[]> {
    return this.#settle(sub, ackIds, { kind: "extend", leaseMs });
  }

  reject(
    sub: string,
    ackIds: readonly string[],
    reason: string,
    attempts?: readonly AttemptRecord[],
  ): Promise<readonly Settled[]> {
    return this.#settle(sub, ackIds, { kind: "reject", reason }, attempts);
  }

  attempts(sub: string, query: AttemptQuery): Promise<readonly AttemptRecord[]> {
    return this.#read("reading the attempt log", () => {
      const state = loadSubscription(this.#ctx.db, sub);
      if (state === null) throw subscriptionNotFound(sub);
      return readAttempts(this.#ctx.db, state.id, query);
    });
  }

  seek(sub: string, to: StartPosition): Promise<number> {
    return this.#ctx.writer.submit(1, (tx) => seekJob(tx, this.#ctx, sub, to));
  }

  redrive(sub: string, req: RedriveRequest): Promise<RedriveResult> {
    if (this.#ctx.isClosed()) return Promise.reject(closedError());
    return redrive(this.#ctx, sub, req);
  }

  stats(sub: string): Promise<SubscriptionStats> {
    return this.#read("reading subscription stats", () =>
      subscriptionStats(this.#ctx.db, this.#ctx.writer.leases, sub, this.#ctx.clock.now()),
    );
  }

  deadLetterDepth(sub: string): Promise<number> {
    return this.#read("reading dead-letter depth", () => deadLetterDepth(this.#ctx.db, sub));
  }

  /** One store, one router: every gauge is this node's to report. */
  reportsGauges(_sub: string): boolean {
    return true;
  }
}
