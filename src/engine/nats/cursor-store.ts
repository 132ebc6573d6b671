/**
 * The CursorStore on JetStream. Subscription configs live in the subscriptions bucket (with
 * the seek epoch); deliveries are served by the subscription's owner node (`ownership.ts`),
 * so any node can lease, settle, seek, redrive or read stats of any subscription.
 */
import type { SubscriptionConfig } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
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
import { appendAttempts, dropAttempts, queryAttempts } from "./attempt-log.js";
import { createConsumers, deleteConsumers, startOffset, updateAckWait } from "./consumers.js";
import type { NatsContext } from "./context.js";
import { subscriptionNotFound, topicNotFound, toSwitchyardError } from "./errors.js";
import type { SubscriptionRecord } from "./metadata.js";
import type { OwnerCall } from "./owner-calls.js";
import type { Owners } from "./ownership.js";
import type { Puller } from "./puller.js";
import { pendingDeadLetterCount } from "./redrive.js";
import type { SettleOp } from "./subscription-owner.js";
import type { TopicCatalog } from "./topic-catalog.js";

export class NatsCursorStore implements CursorStore {
  readonly #ctx: NatsContext;
  readonly #owners: Owners;
  readonly #topics: TopicCatalog;
  readonly #puller: Puller;

  constructor(ctx: NatsContext, owners: Owners, topics: TopicCatalog, puller: Puller) {
    this.#ctx = ctx;
    this.#owners = owners;
    this.#topics = topics;
    this.#puller = puller;
  }

  putSubscription(config: SubscriptionConfig): Promise<{ readonly created: boolean }> {
    return this.#guard("saving a subscription", () => this.#put(config));
  }

  async #put(config: SubscriptionConfig): Promise<{ readonly created: boolean }> {
    for (const topic of [config.topic, config.deadLetterTopic])
      if ((await this.#topics.get(topic)) === null) throw topicNotFound(topic);
    const bucket = this.#ctx.metadata.subscriptions;
    for (;;) {
      const existing = await bucket.get(config.name);
      if (existing === null) {
        const start = await startOffset(this.#ctx, config.topic, config.start);
        const rec: SubscriptionRecord = { config, epoch: 1, start };
        await createConsumers(this.#ctx, rec);
        if ((await bucket.create(config.name, rec)) !== null) return { created: true };
        continue;
      }
      const before = existing.value;
      if (before.config.topic !== config.topic)
        throw new SwitchyardError(
          "subscription_topic_changed",
          `subscription ${config.name} reads ${before.config.topic}; its topic cannot change`,
        );
      const next: SubscriptionRecord = { ...before, config };
      if (next.config.ackTimeoutMs !== before.config.ackTimeoutMs)
        await updateAckWait(this.#ctx, next);
      if ((await bucket.update(config.name, next, existing.revision)) === null) continue;
      await this.#owners.tell(config.name, { op: "reload" });
      return { created: false };
    }
  }

  getSubscription(name: string): Promise<SubscriptionConfig | null> {
    return this.#guard("reading a subscription", async () => {
      const rec = await this.#ctx.metadata.subscriptions.get(name);
      return rec?.value.config ?? null;
    });
  }

  listSubscriptions(topic?: string): Promise<readonly SubscriptionConfig[]> {
    return this.#guard("listing subscriptions", async () => {
      const all = (await this.#ctx.metadata.subscriptions.values()).map((r) => r.config);
      const chosen = topic === undefined ? all : all.filter((c) => c.topic === topic);
      return chosen.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  deleteSubscription(name: string): Promise<boolean> {
    return this.#guard("deleting a subscription", async () => {
      const { metadata, jsm, names } = this.#ctx;
      const existing = await metadata.subscriptions.get(name);
      if (existing === null) return false;
      await this.#owners.tell(name, { op: "drop" });
      await metadata.subscriptions.delete(name);
      await deleteConsumers(this.#ctx, existing.value);
      await jsm.streams.purge(names.redriveStream, { filter: names.redriveSubject(name) });
      await metadata.counters.delete(name);
      await dropAttempts(this.#ctx, name);
      await metadata.owners.delete(name);
      return true;
    });
  }

  lease(sub: string, req: LeaseRequest): Promise<readonly Delivery[]> {
    const call: OwnerCall = {
      op: "lease",
      max: req.max,
      waitMs: req.waitMs,
      ...(req.leaseMs === undefined ? {} : { leaseMs: req.leaseMs }),
    };
    return this.#guard("leasing", () => this.#owners.call<Delivery[]>(sub, call, req.signal));
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
    return this.#guard("releasing", () =>
      this.#owners.call<Settled[]>(sub, { op: "release", ackIds }),
    );
  }

  extend(sub: string, ackIds: readonly string[], leaseMs?: number): Promise<readonly Settled[]> {
    return this.#settle(
      sub,
      ackIds,
      leaseMs === undefined ? { kind: "extend" } : { kind: "extend", leaseMs },
    );
  }

  reject(
    sub: string,
    ackIds: readonly string[],
    reason: string,
    attempts?: readonly AttemptRecord[],
  ): Promise<readonly Settled[]> {
    return this.#settle(sub, ackIds, { kind: "reject", reason }, attempts);
  }

  #settle(
    sub: string,
    ackIds: readonly string[],
    settle: SettleOp,
    attempts?: readonly AttemptRecord[],
  ): Promise<Settled[]> {
    return this.#guard("settling", async () => {
      await appendAttempts(this.#ctx, sub, attempts);
      return this.#owners.call<Settled[]>(sub, { op: "settle", settle, ackIds });
    });
  }

  attempts(sub: string, query: AttemptQuery): Promise<readonly AttemptRecord[]> {
    return this.#guard("reading the attempt log", async () => {
      if ((await this.#ctx.metadata.subscriptions.get(sub)) === null)
        throw subscriptionNotFound(sub);
      return queryAttempts(this.#ctx, this.#puller, sub, query);
    });
  }

  seek(sub: string, to: StartPosition): Promise<number> {
    return this.#guard("seeking", () => this.#owners.call<number>(sub, { op: "seek", to }));
  }

  redrive(sub: string, request: RedriveRequest): Promise<RedriveResult> {
    return this.#guard("redriving", () =>
      this.#owners.call<RedriveResult>(sub, { op: "redrive", request }),
    );
  }

  stats(sub: string): Promise<SubscriptionStats> {
    return this.#guard("reading subscription stats", () =>
      this.#owners.call<SubscriptionStats>(sub, { op: "stats" }),
    );
  }

  /** Read here, not on the owner: the scan needs only the streams. */
  deadLetterDepth(sub: string): Promise<number> {
    return this.#guard("reading dead-letter depth", async () => {
      const rec = await this.#ctx.metadata.subscriptions.get(sub);
      if (rec === null) throw subscriptionNotFound(sub);
      const { config } = rec.value;
      return pendingDeadLetterCount({
        ctx: this.#ctx,
        puller: this.#puller,
        subscription: sub,
        topic: config.topic,
        deadLetterTopic: config.deadLetterTopic,
      });
    });
  }

  reportsGauges(sub: string): boolean {
    return this.#owners.ownsHere(sub);
  }

  async #guard<T>(doing: string, work: () => Promise<T>): Promise<T> {
    this.#ctx.check();
    try {
      return await this.#ctx.track(work());
    } catch (error) {
      throw toSwitchyardError(error, doing);
    }
  }
}
