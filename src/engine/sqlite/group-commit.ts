/**
 * Group commit: every write (append, lease, settle, catalog change, retention chunk) is a job
 * queued here. Jobs queued in the same tick run in ONE transaction and share one fsync; each
 * job runs inside its own SAVEPOINT, so a job that throws (an unknown topic, say) is rolled
 * back alone and fails only its own caller; the in-memory state a job changes (held first
 * leases, pending-leases.ts) is undone with it, or with the whole commit if that fails. A job's promise settles only after COMMIT
 * returned, i.e. once its work is as durable as the engine's `fsync` setting makes it.
 *
 * `node:sqlite` is synchronous: a flush holds the event loop from BEGIN to COMMIT. Nothing
 * else can read the connection mid-transaction, which is what lets readers use the same
 * connection without locks. A flush takes at most `MAX_WEIGHT` work units so that a burst of
 * big batches is split over several commits instead of one long stall.
 *
 * Relaxed jobs (`submit(..., { durable: false })`) are work whose loss in an OS crash or power
 * loss the engine recovers from by doing it again: a lease of new events to a subscription
 * not ordered by key (lost, the events are simply delivered again). On a store opened with
 * `fsync: "always"`, a flush of nothing but relaxed jobs commits with synchronous=NORMAL (no
 * fsync); a flush with any durable job is one commit with synchronous=FULL, the relaxed jobs
 * in it included (see #commitSplit). An fsync'd commit syncs the WAL up to its end, so it
 * also covers every unsynced commit before it: nothing acknowledged (an append, a settle)
 * ever depends on a commit that is not durable. A process crash loses neither kind:
 * committed WAL frames are in the page cache.
 *
 * Checks-first jobs (`submit(..., { checksFirst: true })`, the appends of `EventLog.append`)
 * throw every error they mean to (an unknown topic, a version conflict) before their first
 * write, and reach topic rows only through `tx.topic()`. They run without a savepoint, and
 * the counters of the topic rows they changed are written back once, before the next job
 * that has a savepoint (it may read a row directly) and before COMMIT, instead of one
 * SAVEPOINT, RELEASE and counters UPDATE per job: 64 single-event appends to one topic are
 * 64 INSERTs and one UPDATE. A checks-first job that fails any other way (SQLite refusing a
 * write, a bug) may have half-written: nothing can undo it alone, so the whole commit is
 * rolled back and fails, as a full disk fails it.
 */
import type { TimeSource } from "../../core/clock.js";
import { SwitchyardError } from "../../core/errors.js";
import { CommitReads } from "./commit-reads.js";
import type { Db } from "./database.js";
import type { DedupeIndex } from "./dedupe-index.js";
import { closedError, toSwitchyardError } from "./errors.js";
import { JobTx, PendingDedupe } from "./job-tx.js";
import { LeaseMemory } from "./pending-leases.js";
import type { StoreAccess } from "./store-access.js";
import { saveTopicCounters, type TopicState } from "./topic-state.js";

/** Roughly "rows written": an append of n events weighs n. */
const MAX_WEIGHT = 2000;

interface Job {
  readonly weight: number;
  readonly durable: boolean;
  readonly checksFirst: boolean;
  readonly run: (tx: JobTx) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface Done {
  readonly job: Job;
  readonly tx: JobTx;
  readonly value: unknown;
  readonly effects: readonly (() => void)[];
}

interface Failed {
  readonly job: Job;
  readonly error: unknown;
}

/** What the jobs of one commit share, and what became of each. */
interface Round {
  readonly now: number;
  readonly pending: PendingDedupe;
  readonly topics: Map<string, TopicState>;
  readonly reads: CommitReads;
  readonly done: Done[];
  readonly failed: Failed[];
}

/** Writes back the counters checks-first jobs changed; answers false (none left unsaved). */
function saveCounters(db: Db, topics: Map<string, TopicState>): false {
  for (const topic of topics.values()) saveTopicCounters(db, topic);
  return false;
}

/** An after-commit effect (a wake-up, a timer) must never keep the commit's callers waiting. */
function runEffect(effect: () => void): void {
  try {
    effect();
  } catch {
    // Wake-ups and sweeps are best effort; the committed state is what counts.
  }
}

export class GroupCommit {
  readonly #db: Db;
  readonly #clock: TimeSource;
  readonly #indexes: Map<number, DedupeIndex>;
  readonly #access: StoreAccess | undefined;
  /** First leases held in memory, shared by every job (pending-leases.ts). */
  readonly leases = new LeaseMemory();
  /** True when commits fsync (synchronous=FULL): relaxed jobs then commit apart, unsynced. */
  readonly #relaxable: boolean;
  #synchronous: "FULL" | "NORMAL" = "FULL";
  #queue: Job[] = [];
  #scheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];
  #commits = 0;
  #jobs = 0;
  #unsynced = 0;

  /**
   * `access`: when given, a commit is not even tried while the store is not writable.
   * `fsync`: the connection's setting (database.ts); under "interval" no commit fsyncs, so
   * relaxed jobs need no commit of their own.
   */
  constructor(
    db: Db,
    clock: TimeSource,
    indexes: Map<number, DedupeIndex>,
    access?: StoreAccess,
    fsync: "always" | "interval" = "always",
  ) {
    this.#db = db;
    this.#clock = clock;
    this.#indexes = indexes;
    this.#access = access;
    this.#relaxable = fsync === "always";
  }

  /**
   * Queues `run` for the next commit; resolves with its result once committed. `durable:
   * false` only for work that may be lost in an OS crash; `checksFirst: true` only for a
   * job that throws nothing it means to after its first write (see the module comment).
   */
  submit<T>(
    weight: number,
    run: (tx: JobTx) => T,
    options?: { readonly durable?: boolean; readonly checksFirst?: boolean },
  ): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    const durable = options?.durable ?? true;
    const checksFirst = options?.checksFirst ?? false;
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        weight,
        durable,
        checksFirst,
        run,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.#schedule();
    });
  }

  /**
   * Commits made and jobs they carried, since open (jobs / commits = the grouping achieved);
   * `unsynced`: the commits of relaxed jobs made without an fsync.
   */
  get stats(): { readonly commits: number; readonly jobs: number; readonly unsynced: number } {
    return { commits: this.#commits, jobs: this.#jobs, unsynced: this.#unsynced };
  }

  /** Stops accepting jobs; resolves once every queued job has been committed or failed. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #take(): Job[] {
    let weight = 0;
    let count = 0;
    while (count < this.#queue.length && (count === 0 || weight < MAX_WEIGHT)) {
      weight += this.#queue[count]?.weight ?? 0;
      count++;
    }
    const batch = this.#queue.slice(0, count);
    this.#queue = this.#queue.slice(count);
    return batch;
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#take();
    if (this.#queue.length > 0) this.#schedule();
    if (batch.length > 0) this.#commitSplit(batch);
    if (this.#queue.length === 0 && !this.#scheduled) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /**
   * A flush of nothing but relaxed jobs commits unsynced. A flush with any durable job is one
   * fsync'd commit of all its jobs, the relaxed ones first: splitting it into an unsynced
   * commit and an fsync'd one doubles the commits of a tick, which costs more CPU than the
   * skipped fsync saves when leases are small (see docs/storage.md). Relaxed jobs first keeps
   * what a lease decided from the committed state (sqlite-cursors.ts) true when it runs: no
   * job queued beside it has changed that state yet.
   */
  #commitSplit(batch: readonly Job[]): void {
    if (!this.#relaxable) {
      this.#commit(batch);
      return;
    }
    const relaxed = batch.filter((job) => !job.durable);
    if (relaxed.length === batch.length) {
      this.#commit(batch, "NORMAL");
      return;
    }
    const ordered =
      relaxed.length === 0 ? batch : [...relaxed, ...batch.filter((job) => job.durable)];
    this.#commit(ordered, "FULL");
  }

  #commit(batch: readonly Job[], synchronous: "FULL" | "NORMAL" = "FULL"): void {
    const db = this.#db;
    if (!db.isOpen) {
      for (const job of batch) job.reject(closedError());
      return;
    }
    const refused = this.#access?.problem();
    if (refused) {
      for (const job of batch) job.reject(refused);
      return;
    }
    const pending = new PendingDedupe();
    const done: Done[] = [];
    const failed: Failed[] = [];
    try {
      if (this.#relaxable) this.#setSynchronous(synchronous);
      db.stmt("BEGIN IMMEDIATE").run();
      const round: Round = {
        now: this.#clock.now(),
        pending,
        topics: new Map(),
        reads: new CommitReads(),
        done,
        failed,
      };
      let unsaved = false;
      for (const job of batch) {
        // A job with a savepoint may read a topic row directly, and its rollback must not
        // take the counters of the checks-first jobs before it along.
        if (unsaved && !job.checksFirst) unsaved = saveCounters(db, round.topics);
        if (job.checksFirst) {
          this.#runChecksFirst(job, round);
          unsaved = true;
        } else this.#runJob(job, round);
      }
      if (unsaved) saveCounters(db, round.topics);
      db.stmt("COMMIT").run();
      this.#commits++;
      this.#jobs += batch.length;
      if (synchronous === "NORMAL") this.#unsynced++;
    } catch (error) {
      // A full disk (or an I/O error) fails the whole commit: SQLite rolls back, nothing of it
      // reached the store, and no in-memory trace (dedupe entries, wake-ups) was applied yet,
      // so the next commit starts from the last durable state and simply tries again. The
      // jobs that had run take back their in-memory changes, newest first.
      this.#rollback();
      for (const { tx } of done.reverse()) tx.undo({ keepTopics: false });
      const failure = toSwitchyardError(error, "committing");
      for (const job of batch) job.reject(failure);
      return;
    }
    pending.applyTo(this.#indexes);
    for (const { job, value, effects } of done) {
      for (const effect of effects) runEffect(effect);
      job.resolve(value);
    }
    for (const { job, error } of failed) job.reject(error);
  }

  /** Outside a transaction only (SQLite refuses to change it inside one). */
  #setSynchronous(level: "FULL" | "NORMAL"): void {
    if (this.#synchronous === level) return;
    this.#db.exec(`PRAGMA synchronous = ${level}`);
    this.#synchronous = level;
  }

  #rollback(): void {
    try {
      if (this.#db.isOpen && this.#db.inTransaction) this.#db.exec("ROLLBACK");
    } catch {
      // The connection is gone; nothing of this commit was made durable either way.
    }
  }

  #jobTx(round: Round): JobTx {
    const { now, pending, topics, reads } = round;
    return new JobTx(this.#db, now, pending, this.#indexes, topics, this.leases, reads);
  }

  /** Without a savepoint; a failure other than the job's own checks fails the commit. */
  #runChecksFirst(job: Job, round: Round): void {
    const tx = this.#jobTx(round);
    try {
      const value = job.run(tx);
      round.done.push({ job, tx, value, effects: tx.effects });
    } catch (error) {
      if (!(error instanceof SwitchyardError) || !this.#db.inTransaction) throw error;
      // Thrown by its checks, before it wrote or changed a topic: the rows it loaded stay
      // shared, as they are.
      tx.undo({ keepTopics: true });
      round.failed.push({ job, error });
    }
  }

  #runJob(job: Job, round: Round): void {
    const db = this.#db;
    const tx = this.#jobTx(round);
    db.stmt("SAVEPOINT job").run();
    try {
      const value = job.run(tx);
      tx.finish();
      db.stmt("RELEASE job").run();
      round.done.push({ job, tx, value, effects: tx.effects });
    } catch (error) {
      // Some errors (disk full, I/O) make SQLite roll the whole transaction back: then no
      // job of this commit survives, and the caller of #commit fails them all.
      if (!db.inTransaction) throw error;
      db.stmt("ROLLBACK TO job").run();
      db.stmt("RELEASE job").run();
      tx.undo({ keepTopics: false });
      round.failed.push({ job, error: toSwitchyardError(error, "running a write") });
    }
  }
}
