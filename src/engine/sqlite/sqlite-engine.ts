/**
 * The embedded engine: one SQLite file in WAL mode, one connection, one writer (group commit),
 * background retention and max-attempts sweeps.
 *
 * Durability. `fsync: "always"` (default): synchronous=FULL, the WAL is fsync'd by every
 * commit before any append/ack of it resolves. `fsync: "interval"`: synchronous=NORMAL, the
 * WAL is fsync'd only by checkpoints, which the checkpoint thread runs every CHECKPOINT_MS
 * (250 ms, see checkpointer.ts). A process crash loses nothing in either mode (committed pages
 * are in the OS page cache); an OS crash or power loss in "interval" mode can lose the commits
 * of the last CHECKPOINT_MS (plus the checkpoint's own duration), never corrupt the store.
 * Under "always", one kind of commit is not fsync'd: a lease of new events to a subscription
 * not ordered by key (group-commit.ts). An OS crash can lose such a lease; its events are then
 * delivered again (at least once); the next fsync'd commit (any append or settle) makes it
 * durable with everything before it.
 *
 * First leases are held in memory, not as rows (pending-leases.ts): close() materializes them
 * in its last job, and the open after a crash turns the offsets the cursor saved as held into
 * leased rows before anything else runs (lease-recovery.ts).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Clock, systemClock, type Timer } from "../../core/clock.js";
import type { Engine, EngineCapabilities, RetentionResult } from "../engine.js";
import { SqliteCatalog } from "./catalog.js";
import { Checkpointer } from "./checkpointer.js";
import type { EngineContext } from "./context.js";
import { Db } from "./database.js";
import { rebuildDedupe } from "./dedupe-rebuild.js";
import { closedError, toSwitchyardError } from "./errors.js";
import { GroupCommit } from "./group-commit.js";
import { closeLeasesJob, recoverLeases } from "./lease-recovery.js";
import { Notifier, subscriptionKey, topicKey } from "./notifier.js";
import { retentionPass } from "./retention.js";
import { SqliteScheduleStore } from "./scheduled.js";
import { migrate } from "./schema.js";
import { SqliteCursorStore } from "./sqlite-cursors.js";
import { SqliteEventLog } from "./sqlite-log.js";
import { StoreAccess } from "./store-access.js";
import { lockStore, type StoreLock } from "./store-lock.js";
import { Sweeper } from "./sweeper.js";
import { loadAllTopics } from "./topic-state.js";

export interface SqliteEngineOptions {
  /** Folder holding the store (created if missing); the database file is `${dir}/switchyard.db`. */
  readonly dir: string;
  /**
   * "always" (default): every commit is fsync'd before the append/ack it carries resolves.
   * "interval": synchronous=NORMAL in WAL mode, fsync'd by checkpoints every 250 ms; an OS
   * crash or power loss (not a process crash) can lose the last ~250 ms of commits.
   */
  readonly fsync?: "always" | "interval";
  /**
   * Stamps `appended_at`, lease expiries and nack delays, and runs the timers that act on
   * them (max-attempts sweeps, due-row wake-ups, retention); default `systemClock`.
   */
  readonly clock?: Clock;
  /** Background retention cadence (on `clock`), default 30000; 0 disables the timer. */
  readonly retentionIntervalMs?: number;
}

class SqliteEngine implements Engine {
  readonly name = "sqlite";
  readonly capabilities: EngineCapabilities = { atomicBatch: true };
  readonly log: SqliteEventLog;
  readonly cursors: SqliteCursorStore;
  readonly catalog: SqliteCatalog;
  readonly scheduled: SqliteScheduleStore;
  readonly #ctx: EngineContext;
  readonly #state: { closed: boolean };
  readonly #lock: StoreLock;
  readonly #sweeper: Sweeper;
  readonly #checkpointer: Checkpointer;
  readonly #access: StoreAccess;
  readonly #timers: Timer[] = [];
  #retention: Promise<RetentionResult> | null = null;
  #closing: Promise<void> | null = null;

  constructor(parts: {
    ctx: EngineContext;
    state: { closed: boolean };
    lock: StoreLock;
    sweeper: Sweeper;
    checkpointer: Checkpointer;
    access: StoreAccess;
  }) {
    const { ctx } = parts;
    this.#ctx = ctx;
    this.#state = parts.state;
    this.#lock = parts.lock;
    this.#sweeper = parts.sweeper;
    this.#checkpointer = parts.checkpointer;
    this.#access = parts.access;
    this.log = new SqliteEventLog(ctx, () => this.#enforceRetention());
    this.cursors = new SqliteCursorStore(ctx);
    this.catalog = new SqliteCatalog(ctx);
    this.scheduled = new SqliteScheduleStore(ctx);
  }

  startTimers(retentionIntervalMs: number): void {
    if (retentionIntervalMs <= 0) return;
    const every = this.#ctx.clock.setInterval(
      () => this.#backgroundRetention(),
      retentionIntervalMs,
    );
    this.#timers.push(every.unref());
  }

  #enforceRetention(): Promise<RetentionResult> {
    // One pass at a time; a caller arriving mid-pass gets a fresh pass after it.
    const previous = this.#retention ?? Promise.resolve({ deletedEvents: 0, deletedBytes: 0 });
    const next = previous.catch(() => undefined).then(() => retentionPass(this.#ctx));
    this.#retention = next;
    return next;
  }

  #backgroundRetention(): void {
    if (this.#ctx.isClosed()) return;
    this.#enforceRetention().catch(() => {
      // Background pass failed (closing, disk trouble): the next tick tries again.
    });
  }

  /** Group-commit counters, for benchmarks and diagnostics (not part of the Engine seam). */
  writerStats(): { readonly commits: number; readonly jobs: number; readonly unsynced: number } {
    return this.#ctx.writer.stats;
  }

  ready(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    if (this.#ctx.isClosed()) return Promise.reject(closedError());
    // Ready means writes are served: a read-only store is not ready (a full one still is:
    // reads, and writes that free space such as deletes and retention, keep working).
    const refused = this.#access.problem();
    return refused === null ? Promise.resolve() : Promise.reject(refused);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state.closed = true;
    for (const timer of this.#timers) timer.cancel();
    this.#sweeper.close();
    this.catalog.close();
    this.#ctx.notifier.close();
    // Queued behind every job already submitted; nothing is submitted after it.
    const leases = this.#ctx.writer.submit(1, closeLeasesJob).catch(() => {
      // Not materialized (the store refused the write): the next open recovers them as after
      // a crash (lease-recovery.ts).
    });
    await this.#ctx.writer.close();
    await leases;
    await this.#retention?.catch(() => undefined);
    await this.#checkpointer.close();
    this.#ctx.db.close();
    this.#lock.release();
  }
}

function openDb(path: string, fsync: "always" | "interval"): Db {
  try {
    const db = new Db({ path, fsync });
    migrate(db);
    return db;
  } catch (error) {
    throw toSwitchyardError(error, `opening ${path}`);
  }
}

export async function openSqliteEngine(options: SqliteEngineOptions): Promise<Engine> {
  const fsync = options.fsync ?? "always";
  const clock = options.clock ?? systemClock;
  mkdirSync(options.dir, { recursive: true });
  const lock = lockStore(options.dir);
  let db: Db;
  try {
    db = openDb(join(options.dir, "switchyard.db"), fsync);
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    recoverLeases(db, clock.now());
  } catch (error) {
    db.close();
    lock.release();
    throw toSwitchyardError(error, "recovering leases");
  }
  const notifier = new Notifier(clock);
  const sweeper = new Sweeper();
  const dedupe = rebuildDedupe(db, loadAllTopics(db), clock.now());
  const state = { closed: false };
  const file = join(options.dir, "switchyard.db");
  const access = new StoreAccess([options.dir, file, `${file}-wal`]);
  const ctx: EngineContext = {
    db,
    writer: new GroupCommit(db, clock, dedupe, access, fsync),
    notifier,
    clock,
    random: Math.random,
    topicChanged: (topic) => notifier.notify(topicKey(topic)),
    subscriptionChanged: (sub) => notifier.notify(subscriptionKey(sub)),
    sweepAt: (sub, at) => sweeper.schedule(sub, at),
    isClosed: () => state.closed,
  };
  const checkpointer = new Checkpointer(file, fsync);
  const engine = new SqliteEngine({ ctx, state, lock, sweeper, checkpointer, access });
  sweeper.start(ctx);
  engine.startTimers(options.retentionIntervalMs ?? 30_000);
  return engine;
}
