/**
 * Fires scheduled events (API.md "Scheduled events") when they fall due. On an engine one
 * router holds (SQLite) that router fires; on a shared one (NATS) one node of the cluster
 * fires at a time: it holds the `scheduler` lease in the Catalog (a record with a
 * TTL, renewed with compare-and-set), so each topic's due events are appended by one node,
 * in due order. Any node takes the lease over once its holder stops renewing (a node lost).
 * Correctness never rests on the lease: the engine fires each event once whoever calls
 * (`ScheduleStore.fire`), the lease only keeps the order and saves work.
 *
 * Timing: one timer per topic on the injected clock, armed for that topic's next due time
 * (never a poll every millisecond). Events accepted on this node arm the timer at once;
 * those accepted on other nodes arm it as soon as the store hears of them (`onDue`, NATS:
 * its watch of the bucket), and a re-read of the due times every `refreshMs` catches up
 * after a takeover or a missed word. The lease's own renewals measure node liveness, and
 * the store's pruning its age, so they run on Node's timers.
 */
import { randomBytes } from "node:crypto";
import type { Clock, Timer } from "../core/clock.js";
import { isSwitchyardError } from "../core/errors.js";
import type { Engine } from "../engine/engine.js";
import type { Log } from "./log.js";

const LEASE_KIND = "scheduler";
const LEASE_KEY = "leader";
/** Events one firing appends at most; a topic with more due fires again at once. */
const FIRE_BATCH = 1_000;
/** How often the firing node erases what fired and cancelled events left (`ScheduleStore.prune`). */
const PRUNE_MS = 5_000;

export interface SchedulerOptions {
  readonly engine: Engine;
  readonly clock: Clock;
  readonly log: Log;
  /** How long the lease lasts without a renewal; default 10 s. */
  readonly leaseMs?: number;
  /** How often the due times are re-read; default 1 s. */
  readonly refreshMs?: number;
}

interface Armed {
  readonly at: number;
  readonly timer: Timer;
}

export class Scheduler {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly #leaseMs: number;
  readonly #refreshMs: number;
  readonly #node = randomBytes(6).toString("hex");
  readonly #armed = new Map<string, Armed>();
  /** Topics being fired now: a timer that falls due meanwhile re-arms after. */
  readonly #firing = new Set<string>();
  /** Topics whose timer fell due while they were being fired: fired again after. */
  readonly #again = new Set<string>();
  #revision = 0;
  #leader = false;
  #stopped = true;
  #leaseTimer: NodeJS.Timeout | undefined;
  #refreshTimer: Timer | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: SchedulerOptions) {
    this.#engine = options.engine;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#leaseMs = options.leaseMs ?? 10_000;
    this.#refreshMs = options.refreshMs ?? 1_000;
  }

  /** Whether this node fires right now (tests, diagnostics). */
  get leader(): boolean {
    return this.#leader;
  }

  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#unsubscribe = this.#engine.scheduled.onDue?.((topic, at) => this.noteDue(topic, at));
    await this.#holdLease();
    this.#leaseTimer = setInterval(() => void this.#holdLease(), Math.max(100, this.#leaseMs / 3));
    this.#leaseTimer.unref();
    this.#refreshTimer = this.#clock.setInterval(() => void this.#refresh(), this.#refreshMs);
    this.#refreshTimer.unref();
    if (this.#engine.scheduled.prune !== undefined) {
      this.#pruneTimer = setInterval(() => void this.#prune(), PRUNE_MS);
      this.#pruneTimer.unref();
    }
  }

  /** Stops firing and gives the lease up, so another node takes over at once. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#leaseTimer);
    clearInterval(this.#pruneTimer);
    this.#unsubscribe?.();
    this.#refreshTimer?.cancel();
    this.#disarmAll();
    if (this.#leader) {
      this.#leader = false;
      if (!this.#engine.scheduled.shared) return;
      await this.#engine.catalog
        .delete(LEASE_KIND, LEASE_KEY, { expectedRevision: this.#revision })
        .catch(() => undefined);
    }
  }

  /** An event of `topic` was accepted for `at` on this node. */
  noteDue(topic: string, at: number): void {
    if (this.#leader && !this.#stopped) this.#arm(topic, at);
  }

  async #holdLease(): Promise<void> {
    if (this.#stopped) return;
    if (!this.#engine.scheduled.shared) {
      // One router per store by design: no one to agree with (and a killed predecessor's
      // lease would otherwise hold firing back until it expired).
      if (!this.#leader) {
        this.#leader = true;
        await this.#refresh();
      }
      return;
    }
    const value = { node: this.#node };
    const ttlMs = this.#leaseMs;
    const catalog = this.#engine.catalog;
    try {
      if (this.#leader) {
        try {
          this.#revision = await catalog.put(LEASE_KIND, LEASE_KEY, value, {
            expectedRevision: this.#revision,
            ttlMs,
          });
          return;
        } catch (error) {
          if (!isConflict(error)) throw error;
          // Expired under us (a stall) or taken over: try to take it (back) below.
        }
      }
      this.#revision = await catalog.put(LEASE_KIND, LEASE_KEY, value, {
        expectedRevision: 0,
        ttlMs,
      });
      if (!this.#leader) {
        this.#leader = true;
        this.#log.info({ node: this.#node }, "scheduler: this node fires scheduled events");
        await this.#refresh();
      }
    } catch (error) {
      if (this.#leader) {
        this.#leader = false;
        this.#disarmAll();
      }
      if (!isConflict(error))
        this.#log.warn({ error: String(error) }, "scheduler: lease renewal failed");
    }
  }

  async #refresh(): Promise<void> {
    if (!this.#leader || this.#stopped) return;
    try {
      const due = await this.#engine.scheduled.due();
      for (const [topic, at] of due) this.#arm(topic, at);
    } catch (error) {
      this.#log.warn({ error: String(error) }, "scheduler: reading due times failed");
    }
  }

  async #prune(): Promise<void> {
    if (!this.#leader || this.#stopped) return;
    try {
      await this.#engine.scheduled.prune?.();
    } catch (error) {
      this.#log.warn({ error: String(error) }, "scheduler: pruning fired events failed");
    }
  }

  /** Arms `topic`'s timer for `at` unless it is already armed for that time or earlier. */
  #arm(topic: string, at: number): void {
    const armed = this.#armed.get(topic);
    if (armed !== undefined && armed.at <= at) return;
    armed?.timer.cancel();
    const timer = this.#clock.setTimeout(() => void this.#fire(topic), at - this.#clock.now());
    this.#armed.set(topic, { at, timer });
  }

  #disarmAll(): void {
    for (const { timer } of this.#armed.values()) timer.cancel();
    this.#armed.clear();
  }

  async #fire(topic: string): Promise<void> {
    this.#armed.delete(topic);
    if (!this.#leader || this.#stopped) return;
    if (this.#firing.has(topic)) {
      this.#again.add(topic);
      return;
    }
    this.#firing.add(topic);
    let next: number | null = null;
    try {
      for (;;) {
        const result = await this.#engine.scheduled.fire(topic, this.#clock.now(), FIRE_BATCH);
        next = result.next;
        if (result.fired < FIRE_BATCH || this.#stopped) break;
      }
    } catch (error) {
      // The store is unreachable or the topic went away: the next refresh tries again.
      if (!(isSwitchyardError(error) && error.code === "topic_not_found"))
        this.#log.warn({ topic, error: String(error) }, "scheduler: firing failed");
    } finally {
      this.#firing.delete(topic);
    }
    if (this.#stopped) return;
    if (this.#again.delete(topic)) void this.#fire(topic);
    else if (next !== null) this.#arm(topic, next);
  }
}

function isConflict(error: unknown): boolean {
  return isSwitchyardError(error) && error.code === "revision_conflict";
}
