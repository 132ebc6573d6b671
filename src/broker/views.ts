import {
  type PushConfig,
  type SubscriptionConfig,
  TOPIC_SCHEMAS_DEFAULT,
  type TopicConfig,
  type TopicIndex,
  type TopicOwner,
  type TopicSchemas,
} from "../core/config.js";
import type { SubscriptionStats, TopicStats } from "../engine/engine.js";
import { ownerOf } from "./router-topics.js";

/**
 * A topic as the API shows it: `owner` is `"router"` for router-owned topics, else null;
 * `schemas` always shows (the default when never set).
 */
export interface TopicView extends Omit<TopicConfig, "owner" | "schemas" | "indexes"> {
  readonly owner: TopicOwner | null;
  readonly schemas: TopicSchemas;
  readonly indexes: readonly TopicIndex[];
  readonly stats?: TopicStats;
}

/**
 * A push config as the API shows it: secrets and header values are write-only, only the
 * secrets' count and the headers' names (sorted) show; the pause is state, shown in the
 * subscription's `state` and `health`.
 */
export interface PushView extends Omit<PushConfig, "secrets" | "headers" | "paused"> {
  readonly headerNames: readonly string[];
  readonly secretCount: number;
}

export type PushState = "healthy" | "degraded" | "paused";

/** Push delivery health beside `state`: the endpoint's circuit and why it is paused. */
export interface PushHealthView {
  readonly circuit: "closed" | "open" | "half-open";
  readonly consecutiveFailures: number;
  readonly pausedReason?: string;
  /** RFC 3339. */
  readonly pausedAt?: string;
}

/** What the dispatcher reports about one subscription (null when none runs for it). */
export interface PushHealthInput {
  readonly state: PushState;
  readonly circuit: "closed" | "open" | "half-open";
  readonly consecutiveFailures: number;
}

export interface SubscriptionStatsView {
  readonly position: number;
  readonly lag: number;
  readonly inFlight: number;
  readonly delivered: number;
  readonly acked: number;
  readonly deadLettered: number;
  readonly oldestUnackedAgeMs: number;
}

/** A subscription as the API shows it; `state` only for push subscriptions. */
export interface SubscriptionView extends Omit<SubscriptionConfig, "push"> {
  readonly push: PushView | null;
  readonly stats?: SubscriptionStatsView;
  readonly state?: PushState;
  readonly health?: PushHealthView;
}

export function topicView(config: TopicConfig, stats?: TopicStats): TopicView {
  const view: TopicView = {
    ...config,
    owner: ownerOf(config),
    schemas: config.schemas ?? TOPIC_SCHEMAS_DEFAULT,
    indexes: config.indexes ?? [],
  };
  return stats === undefined ? view : { ...view, stats };
}

/** Optional tuning shows only when set; `onClientError` always (its default is a choice). */
function pushView(push: PushConfig): PushView {
  const { secrets, headers, paused: _paused, batch, ratePerSecond, maxAgeMs, ...rest } = push;
  return {
    ...rest,
    headerNames: Object.keys(headers).sort(),
    onClientError: push.onClientError ?? "retry",
    ...(batch == null ? {} : { batch }),
    ...(ratePerSecond == null ? {} : { ratePerSecond }),
    ...(maxAgeMs == null ? {} : { maxAgeMs }),
    secretCount: secrets.length,
  };
}

function pushHealth(
  push: PushConfig,
  health: PushHealthInput | null,
): { state: PushState; health: PushHealthView } {
  const circuit = health?.circuit ?? "closed";
  const consecutiveFailures = health?.consecutiveFailures ?? 0;
  if (push.paused != null)
    return {
      state: "paused",
      health: {
        circuit,
        consecutiveFailures,
        pausedReason: push.paused.reason,
        pausedAt: new Date(push.paused.at).toISOString(),
      },
    };
  return { state: health?.state ?? "healthy", health: { circuit, consecutiveFailures } };
}

function statsView(stats: SubscriptionStats): SubscriptionStatsView {
  return {
    position: stats.position,
    lag: stats.lag,
    inFlight: stats.inFlight,
    delivered: stats.delivered,
    acked: stats.acked,
    deadLettered: stats.deadLettered,
    oldestUnackedAgeMs: stats.oldestUnackedAgeMs,
  };
}

/** `health` comes from the subscription's dispatcher; a pause shows even when none runs. */
export function subscriptionView(
  config: SubscriptionConfig,
  stats?: SubscriptionStats,
  health: PushHealthInput | null = null,
): SubscriptionView {
  const view: SubscriptionView = {
    ...config,
    push: config.push === null ? null : pushView(config.push),
    ...(stats === undefined ? {} : { stats: statsView(stats) }),
  };
  return config.push === null ? view : { ...view, ...pushHealth(config.push, health) };
}
