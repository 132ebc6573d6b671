/**
 * A subscription's row as a job sees it: its config (stored as JSON, parsed once per
 * distinct text) and its cursor: `position` (next offset to consider), seek `epoch`, the
 * lease counter that numbers ackIds, and the delivered/acked/dead-lettered counters. The ack
 * floor and held leases saved with it are read only when the store opens (lease-recovery.ts).
 */
import type { SubscriptionConfig } from "../../core/config.js";
import { compileFilter, type EventPredicate } from "../../core/filter.js";
import type { Db } from "./database.js";
import type { JobTx } from "./job-tx.js";
import { ackFloor, encodeHeld } from "./pending-leases.js";

interface SubscriptionRow extends Record<string, unknown> {
  subscription_id: number;
  name: string;
  topic_id: number;
  topic: string;
  config: string;
  position: number;
  epoch: number;
  lease_counter: number;
  delivered_count: number;
  acked_count: number;
  dead_lettered_count: number;
}

export interface SubscriptionState {
  readonly id: number;
  readonly name: string;
  readonly topicId: number;
  readonly topic: string;
  readonly config: SubscriptionConfig;
  /** Null when the subscription has no filter. */
  readonly matches: EventPredicate | null;
  position: number;
  epoch: number;
  leaseCounter: number;
  delivered: number;
  acked: number;
  deadLettered: number;
}

interface Parsed {
  readonly config: SubscriptionConfig;
  readonly matches: EventPredicate | null;
}

/**
 * Epochs start apart per subscription id (`id * EPOCH_SPACING`), so ackIds of a deleted
 * subscription never match deliveries of one re-created under the same name.
 */
export const EPOCH_SPACING = 1_048_576;

/** The epoch the subscription was created with (seeks count up from there). */
export function firstEpochOf(sub: SubscriptionState): number {
  return sub.id * EPOCH_SPACING;
}

const parsedConfigs = new Map<string, Parsed>();
/**
 * More than the subscriptions a router is expected to hold: every listing of them all (the
 * push reconcile every 5 s, the start-up passes) walks every config, and a cache smaller than
 * that walk misses on every entry of it (at 1,000 it was cleared on each listing of 1,001).
 */
const MAX_PARSED_CONFIGS = 20_000;

function parseConfig(text: string): Parsed {
  let parsed = parsedConfigs.get(text);
  if (parsed === undefined) {
    const config = JSON.parse(text) as SubscriptionConfig;
    parsed = { config, matches: config.filter === null ? null : compileFilter(config.filter) };
    if (parsedConfigs.size >= MAX_PARSED_CONFIGS) {
      // The oldest text first: configs replaced by an update are never read again.
      const oldest = parsedConfigs.keys().next();
      if (oldest.done !== true) parsedConfigs.delete(oldest.value);
    }
    parsedConfigs.set(text, parsed);
  }
  return parsed;
}

const SELECT = `SELECT s.subscription_id, s.name, s.topic_id, t.name AS topic, s.config,
  s.position, s.epoch, s.lease_counter, s.delivered_count, s.acked_count, s.dead_lettered_count
  FROM subscriptions s JOIN topics t ON t.topic_id = s.topic_id`;

function toState(row: SubscriptionRow): SubscriptionState {
  const { config, matches } = parseConfig(row.config);
  return {
    id: row.subscription_id,
    name: row.name,
    topicId: row.topic_id,
    topic: row.topic,
    config,
    matches,
    position: row.position,
    epoch: row.epoch,
    leaseCounter: row.lease_counter,
    delivered: row.delivered_count,
    acked: row.acked_count,
    deadLettered: row.dead_lettered_count,
  };
}

export function loadSubscription(db: Db, name: string): SubscriptionState | null {
  const row = db.get<SubscriptionRow>(`${SELECT} WHERE s.name = ?`, name);
  return row === undefined ? null : toState(row);
}

export function loadSubscriptions(db: Db, topic?: string): SubscriptionState[] {
  const rows =
    topic === undefined
      ? db.all<SubscriptionRow>(`${SELECT} ORDER BY s.name`)
      : db.all<SubscriptionRow>(`${SELECT} WHERE t.name = ? ORDER BY s.name`, topic);
  return rows.map(toState);
}

export function loadSubscriptionsOfTopic(db: Db, topicId: number): SubscriptionState[] {
  return db.all<SubscriptionRow>(`${SELECT} WHERE s.topic_id = ?`, topicId).map(toState);
}

/** Saves the cursor and, in the same statement, the held first leases (pending-leases.ts). */
export function saveCursor(tx: JobTx, sub: SubscriptionState): void {
  tx.db.run(
    `UPDATE subscriptions SET position = ?, ack_floor = ?, held = ?, epoch = ?, lease_counter = ?,
       delivered_count = ?, acked_count = ?, dead_lettered_count = ? WHERE subscription_id = ?`,
    sub.position,
    ackFloor(tx, sub.id, sub.position),
    encodeHeld(tx, sub.id),
    sub.epoch,
    sub.leaseCounter,
    sub.delivered,
    sub.acked,
    sub.deadLettered,
    sub.id,
  );
}
