/**
 * Dead-letters deliveries whose final attempt's lease ran out, even when nobody leases from
 * the subscription any more: a lease job that hands out a final attempt asks for a sweep at
 * that lease's expiry. Each sweep runs as a job and asks for the next one it finds. Timers run
 * on the engine's clock and are unref'd: they never keep the process alive.
 */
import type { Timer } from "../../core/clock.js";
import { type ErrorCode, isSwitchyardError } from "../../core/errors.js";
import type { EngineContext } from "./context.js";
import { deadLetter, MAX_ATTEMPTS_REASON } from "./dead-letter.js";
import type { DeliveryRow } from "./delivery-rows.js";
import type { JobTx } from "./job-tx.js";
import { materializeExpired } from "./pending-leases.js";
import { loadSubscription, type SubscriptionState, saveCursor } from "./subscription-state.js";

/** How long a sweep the store refused waits before it runs again. */
export const RETRY_MS = 1_000;
const RETRIED: ReadonlySet<ErrorCode> = new Set(["storage_full", "engine_unavailable"]);

function finalAttemptsDue(tx: JobTx, subId: number, maxAttempts: number): DeliveryRow[] {
  return tx.db.all<DeliveryRow>(
    `SELECT event_offset, partition_key, state, attempt, lease_no, due_at, dead_letter_topic_id,
            dead_letter_offset
       FROM deliveries
      WHERE subscription_id = ? AND state = 'leased' AND due_at <= ? AND attempt >= ?
      LIMIT 1000`,
    subId,
    tx.now,
    maxAttempts,
  );
}

function nextFinalExpiry(tx: Pick<JobTx, "db">, subId: number, maxAttempts: number): number | null {
  const row = tx.db.get<{ at: number | null }>(
    `SELECT min(due_at) AS at FROM deliveries
      WHERE subscription_id = ? AND state = 'leased' AND attempt >= ?`,
    subId,
    maxAttempts,
  );
  return row?.at ?? null;
}

/**
 * Only subscriptions holding leased deliveries can have a final lease to sweep: at start the
 * others (most of a router's thousand idle subscriptions) cost no query and no config parse.
 */
function subscriptionsWithLeases(ctx: EngineContext): SubscriptionState[] {
  const rows = ctx.db.all<{ name: string }>(
    `SELECT s.name FROM subscriptions s
      WHERE EXISTS (SELECT 1 FROM deliveries d
                     WHERE d.subscription_id = s.subscription_id AND d.state = 'leased')`,
  );
  return rows.flatMap((row) => loadSubscription(ctx.db, row.name) ?? []);
}

/** One sweep of one subscription; returns when the next final lease expires, if any. */
export function sweepJob(tx: JobTx, ctx: EngineContext, name: string): number | null {
  const sub = loadSubscription(tx.db, name);
  if (sub === null) return null;
  const topic = tx.topic(sub.topic);
  if (topic === null) return null;
  // A first lease held in memory that ran out is a final attempt when maxAttempts is 1.
  materializeExpired(tx, sub.id);
  const rows = finalAttemptsDue(tx, sub.id, sub.config.maxAttempts);
  for (const row of rows) deadLetter(tx, ctx, sub, topic, row, MAX_ATTEMPTS_REASON);
  if (rows.length > 0) {
    saveCursor(tx, sub);
    tx.afterCommit(() => ctx.subscriptionChanged(name));
    if (rows.length === 1000) return tx.now;
  }
  return nextFinalExpiry(tx, sub.id, sub.config.maxAttempts);
}

export class Sweeper {
  readonly #timers = new Map<string, { at: number; timer: Timer }>();
  #ctx: EngineContext | undefined;
  #closed = false;

  start(ctx: EngineContext): void {
    this.#ctx = ctx;
    for (const sub of subscriptionsWithLeases(ctx)) {
      const at = nextFinalExpiry({ db: ctx.db }, sub.id, sub.config.maxAttempts);
      if (at !== null) this.schedule(sub.name, at);
    }
  }

  schedule(name: string, at: number): void {
    const ctx = this.#ctx;
    if (ctx === undefined || this.#closed) return;
    const existing = this.#timers.get(name);
    if (existing !== undefined && existing.at <= at) return;
    existing?.timer.cancel();
    // At the expiry itself, so a test clock jumping exactly there sweeps. A real timer that
    // fires a hair early finds nothing due yet, and the job asks again for the same moment.
    const delay = Math.max(1, at - ctx.clock.now());
    const timer = ctx.clock.setTimeout(() => this.#fire(name), delay).unref();
    this.#timers.set(name, { at, timer });
  }

  #fire(name: string): void {
    this.#timers.delete(name);
    const ctx = this.#ctx;
    if (ctx === undefined || this.#closed) return;
    ctx.writer
      .submit(1, (tx) => sweepJob(tx, ctx, name))
      .then(
        (next) => {
          if (next !== null) this.schedule(name, next);
        },
        (error: unknown) => {
          // Closed: the next open sweeps again. A full or read-only store: try again soon, or
          // final leases that ran out meanwhile would wait for someone to lease again.
          if (isSwitchyardError(error) && RETRIED.has(error.code) && !ctx.isClosed())
            this.schedule(name, ctx.clock.now() + RETRY_MS);
        },
      );
  }

  close(): void {
    this.#closed = true;
    for (const { timer } of this.#timers.values()) timer.cancel();
    this.#timers.clear();
  }
}
