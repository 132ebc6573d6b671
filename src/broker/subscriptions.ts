import type { SubscriptionConfig } from "../core/config.js";
import { SwitchyardError } from "../core/errors.js";
import { assertSubscriptionName, isTopicName } from "../core/names.js";
import type { StartPosition } from "../core/positions.js";
import type { Delivery, Engine, Settled, SubscriptionStats } from "../engine/engine.js";
import type { PullRequest, SettleRequest } from "./delivery-requests.js";
import type { BrokerMetrics, LabelledCounter } from "./metrics.js";
import type { PushDispatchers } from "./push/dispatchers.js";
import type { PushSecrets } from "./push-secrets.js";
import { checkDeadLetterTopic } from "./router-topics.js";
import { parseSubscriptionConfig } from "./subscription-config.js";
import type { Topics } from "./topics.js";
import { type SubscriptionView, subscriptionView } from "./views.js";

function notFound(name: string): SwitchyardError {
  return new SwitchyardError("subscription_not_found", `subscription ${name} does not exist`, {
    errors: [{ pointer: "path:name", message: "no such subscription" }],
  });
}

/** What `/metrics` reports of one subscription. */
export interface SubscriptionGauges {
  readonly config: SubscriptionConfig;
  readonly stats: SubscriptionStats;
  /** Dead letters not yet redriven and still retained. */
  readonly deadLetterDepth: number;
}

/** Subscription administration, pull and settle. */
export class Subscriptions {
  readonly #engine: Engine;
  readonly #topics: Topics;
  readonly #metrics: BrokerMetrics;
  readonly #push: PushDispatchers;
  readonly #secrets: PushSecrets;

  constructor(
    engine: Engine,
    topics: Topics,
    metrics: BrokerMetrics,
    push: PushDispatchers,
    secrets: PushSecrets,
  ) {
    this.#engine = engine;
    this.#topics = topics;
    this.#metrics = metrics;
    this.#push = push;
    this.#secrets = secrets;
  }

  async put(
    name: string,
    body: unknown,
    mayCreateTopic: (topic: string) => boolean,
  ): Promise<{ created: boolean; subscription: SubscriptionView }> {
    assertSubscriptionName(name, "path:name");
    const stored = await this.#engine.cursors.getSubscription(name);
    // Opened: an update that leaves secrets or headers out keeps them.
    const existing = stored === null ? null : this.#secrets.open(stored);
    const parsed = parseSubscriptionConfig(name, body, existing);
    if (existing !== null && existing.topic !== parsed.topic)
      throw new SwitchyardError(
        "subscription_topic_changed",
        `subscription ${name} reads topic ${existing.topic}; delete it and create a new one to read ${parsed.topic}`,
        { errors: [{ pointer: "/topic", message: `must stay ${existing.topic}` }] },
      );
    if (!isTopicName(parsed.deadLetterTopic))
      throw new SwitchyardError(
        "invalid_request",
        "the default dead-letter topic name is too long",
        {
          errors: [{ pointer: "/deadLetterTopic", message: "name one of at most 200 characters" }],
        },
      );
    if (parsed.push !== null) await this.#push.checkEndpointConfig(parsed.push.url, "/push/url");
    await checkDeadLetterTopic(this.#engine, parsed, existing);
    await this.#topics.require(parsed.topic, "/topic", mayCreateTopic(parsed.topic));
    await this.#topics.ensure(parsed.deadLetterTopic);
    // `start` applies at creation only; an update keeps the position (seek moves it).
    const config: SubscriptionConfig =
      existing === null ? parsed : { ...parsed, start: existing.start };
    const { created } = await this.#engine.cursors.putSubscription(this.#secrets.seal(config));
    await this.#push.sync(name, config);
    return { created, subscription: subscriptionView(config, undefined, this.#push.health(name)) };
  }

  /** The stored config: push secrets and header values sealed. */
  async config(name: string): Promise<SubscriptionConfig> {
    assertSubscriptionName(name, "path:name");
    const config = await this.#engine.cursors.getSubscription(name);
    if (config === null) throw notFound(name);
    return config;
  }

  async get(name: string): Promise<SubscriptionView> {
    const config = await this.config(name);
    const stats = await this.#engine.cursors.stats(name);
    return subscriptionView(config, stats, this.#push.health(name));
  }

  async list(): Promise<SubscriptionView[]> {
    const configs = await this.#engine.cursors.listSubscriptions();
    return Promise.all(
      configs.map(async (c) =>
        subscriptionView(c, await this.#statsOrNull(c.name), this.#push.health(c.name)),
      ),
    );
  }

  /** Every subscription's stats (for lag gauges); one deleted meanwhile is left out. */
  /**
   * Stats and dead-letter depth of the subscriptions whose gauges this node reports (on a
   * cluster, those it owns once `stats` has settled the owner), for `/metrics`.
   */
  async reportedGauges(): Promise<SubscriptionGauges[]> {
    const cursors = this.#engine.cursors;
    const configs = await cursors.listSubscriptions();
    const rows = await Promise.all(
      configs.map(async (config): Promise<SubscriptionGauges | undefined> => {
        const stats = await this.#statsOrNull(config.name);
        if (stats === undefined || !cursors.reportsGauges(config.name)) return undefined;
        // Deleted meanwhile: left out. Any other failure fails the scrape, rather than a 0
        // that would resolve a dead-letter alert.
        const deadLetterDepth = await cursors
          .deadLetterDepth(config.name)
          .catch((error: unknown) => {
            if (error instanceof SwitchyardError && error.code === "subscription_not_found")
              return undefined;
            throw error;
          });
        return deadLetterDepth === undefined ? undefined : { config, stats, deadLetterDepth };
      }),
    );
    return rows.filter((r) => r !== undefined);
  }

  async delete(name: string): Promise<void> {
    assertSubscriptionName(name, "path:name");
    // Push stops first: its last attempts settle (and log) while the subscription exists.
    await this.#push.sync(name, null);
    const deleted = await this.#engine.cursors.deleteSubscription(name);
    if (!deleted) throw notFound(name);
  }

  async pull(
    name: string,
    request: PullRequest,
    signal?: AbortSignal,
  ): Promise<readonly Delivery[]> {
    assertSubscriptionName(name, "path:name");
    let deliveries: readonly Delivery[];
    try {
      deliveries = await this.#engine.cursors.lease(name, {
        max: request.max,
        waitMs: request.waitMs,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      // An aborted wait (client gone, shutdown) is an empty answer, not a failure.
      if (signal?.aborted === true && !(error instanceof SwitchyardError)) return [];
      throw error;
    }
    if (deliveries.length > 0) this.#metrics.deliveries.add(name, deliveries.length);
    return deliveries;
  }

  async release(name: string, deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const ackIds = deliveries.map((d) => d.ackId);
    const results = await this.#engine.cursors.release(name, ackIds).catch(() => []);
    const released = results.filter((r) => r.status === "ok").length;
    if (released > 0) this.#metrics.released.add(name, released);
  }

  async settle(name: string, request: SettleRequest): Promise<readonly Settled[]> {
    assertSubscriptionName(name, "path:name");
    const results = await this.#apply(name, request);
    let ok = 0;
    const now = Date.now();
    for (const r of results) {
      if (r.status !== "ok") continue;
      ok++;
      if (r.appendedAt !== undefined)
        this.#metrics.deliveryLatency.observe(name, Math.max(0, now - r.appendedAt) / 1000);
    }
    if (ok > 0) this.#counterFor(request.op).add(name, ok);
    return results;
  }

  #apply(name: string, request: SettleRequest): Promise<readonly Settled[]> {
    const cursors = this.#engine.cursors;
    switch (request.op) {
      case "ack":
        return cursors.ack(name, request.ackIds);
      case "nack":
        return cursors.nack(name, request.ackIds, request.delayMs);
      case "extend":
        return request.leaseMs === undefined
          ? cursors.extend(name, request.ackIds)
          : cursors.extend(name, request.ackIds, request.leaseMs);
      case "reject":
        return cursors.reject(name, request.ackIds, request.reason);
    }
  }

  #counterFor(op: SettleRequest["op"]): LabelledCounter {
    const m = this.#metrics;
    return op === "ack"
      ? m.acks
      : op === "nack"
        ? m.nacks
        : op === "extend"
          ? m.extends
          : m.rejects;
  }

  async seek(name: string, to: StartPosition): Promise<number> {
    assertSubscriptionName(name, "path:name");
    return this.#engine.cursors.seek(name, to);
  }

  async #statsOrNull(name: string): Promise<SubscriptionStats | undefined> {
    try {
      return await this.#engine.cursors.stats(name);
    } catch (error) {
      if (error instanceof SwitchyardError && error.code === "subscription_not_found")
        return undefined;
      throw error;
    }
  }
}
