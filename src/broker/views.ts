import type { PushConfig, SubscriptionConfig, TopicConfig } from "../core/config.js";
import type { SubscriptionStats, TopicStats } from "../engine/engine.js";

/** A topic as the API shows it. */
export interface TopicView extends TopicConfig {
  readonly stats?: TopicStats;
}

/** A push config as the API shows it: secrets are write-only, only their count shows. */
export interface PushView extends Omit<PushConfig, "secrets"> {
  readonly secretCount: number;
}

export type PushState = "healthy" | "degraded" | "paused";

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
}

export function topicView(config: TopicConfig, stats?: TopicStats): TopicView {
  return stats === undefined ? { ...config } : { ...config, stats };
}

function pushView(push: PushConfig): PushView {
  const { secrets, ...rest } = push;
  return { ...rest, secretCount: secrets.length };
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

/** No dispatcher runs yet, so every push subscription reports `healthy`. */
export function subscriptionView(
  config: SubscriptionConfig,
  stats?: SubscriptionStats,
): SubscriptionView {
  const view: SubscriptionView = {
    ...config,
    push: config.push === null ? null : pushView(config.push),
    ...(stats === undefined ? {} : { stats: statsView(stats) }),
  };
  return config.push === null ? view : { ...view, state: "healthy" };
}
