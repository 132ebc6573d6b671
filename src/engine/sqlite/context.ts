/** What the engine's parts share: the connection, the writer, the clock and wake-ups. */
import type { Clock } from "../../core/clock.js";
import type { Db } from "./database.js";
import type { GroupCommit } from "./group-commit.js";
import type { Notifier } from "./notifier.js";

export interface EngineContext {
  readonly db: Db;
  readonly writer: GroupCommit;
  readonly notifier: Notifier;
  readonly clock: Clock;
  /** In [0, 1): backoff jitter. */
  readonly random: () => number;
  /** Wakes tails and leases of a topic (after an append, or its deletion). */
  readonly topicChanged: (topic: string) => void;
  /** Wakes leases of a subscription (settles, seeks, redrives, config changes). */
  readonly subscriptionChanged: (sub: string) => void;
  /** Asks for a max-attempts sweep of `sub` at `at` (see sweeper.ts). */
  readonly sweepAt: (sub: string, at: number) => void;
  readonly isClosed: () => boolean;
}
