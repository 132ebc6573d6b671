import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { TimeSource } from "../core/clock.js";
import { SwitchyardError } from "../core/errors.js";
import type { Catalog, CatalogValue, CursorStore, RedriveRequest } from "../engine/engine.js";
import type { RedriveOrigin, RedrivePacing } from "./redrive-pacing.js";

export type RedriveState = "running" | "done" | "failed";

export interface RedriveJob {
  readonly id: string;
  readonly subscription: string;
  readonly state: RedriveState;
  readonly matched: number;
  readonly keys: number;
  readonly moved: number;
  readonly error?: string;
  /** Who asked for it (client's claim), as recorded in the audit topic. */
  readonly actor: string | null;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly finishedAt?: number;
}

export interface RedriveStarted {
  /** Null for a dry run, which starts no job. */
  readonly redrive: string | null;
  readonly matched: number;
  readonly keys: number;
}

/** One audit entry: a redrive started or finished. */
export interface RedriveAudit {
  readonly event: "started" | "finished";
  readonly job: RedriveJob;
  readonly request: RedriveRequest;
  readonly pacing: RedrivePacing;
  readonly origin: RedriveOrigin;
}

export interface RedriveJobsOptions {
  readonly clock: TimeSource;
  /** Records an audit entry durably; a failure to record fails the redrive (or its start). */
  readonly audit: (entry: RedriveAudit) => Promise<void>;
  /** How often a running job's record is rewritten to show its node is alive; default 5 s. */
  readonly heartbeatMs?: number;
  /** A running job whose record is older than this reads `failed`; default 30 s. */
  readonly staleMs?: number;
}

/** The Catalog kind of redrive jobs, keyed `{subscription}/{id}`. */
export const REDRIVE_KIND = "redrives";
/** Jobs are kept this long after their last write. */
export const REDRIVE_TTL_MS = 7 * 24 * 3_600_000;
const HEARTBEAT_MS = 5_000;
const STALE_MS = 30_000;
const ID_PATTERN = /^[-a-zA-Z0-9]{1,64}$/;

export const STALE_JOB_ERROR =
  "the router running this redrive stopped; redrive again to move the rest (running it again is safe)";

function notFound(subscription: string, id: string): SwitchyardError {
  return new SwitchyardError(
    "redrive_not_found",
    `no redrive ${id} of subscription ${subscription}`,
  );
}

/** A job being run by this node: its latest state and the chain of its record's writes. */
interface Running {
  current: RedriveJob;
  saved: Promise<void>;
}

/**
 * Redrive jobs, kept in the Catalog (kind `redrives`, 7 days) so any node answers for any
 * job: a job counts what matches (a dry run), answers at once, and moves the events in the
 * background, chunk by chunk at the requested rate, each chunk the oldest remaining dead
 * letters (so per-key order holds across chunks). The running node rewrites the record after
 * each chunk and every `heartbeatMs`; a reader that finds a running job not written for
 * `staleMs` reports it `failed` with what it moved so far (its node died; redriving again
 * is safe, as each dead letter is redriven at most once). An audit entry is appended when a
 * job starts and when it ends.
 */
export class RedriveJobs {
  readonly #cursors: CursorStore;
  readonly #catalog: Catalog;
  readonly #options: RedriveJobsOptions;
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(engine: { cursors: CursorStore; catalog: Catalog }, options: RedriveJobsOptions) {
    this.#cursors = engine.cursors;
    this.#catalog = engine.catalog;
    this.#options = options;
  }

  async start(
    subscription: string,
    request: RedriveRequest,
    pacing: RedrivePacing,
    origin: RedriveOrigin,
  ): Promise<RedriveStarted> {
    const counted = await this.#cursors.redrive(subscription, { ...request, dryRun: true });
    if (request.dryRun === true)
      return { redrive: null, matched: counted.matched, keys: counted.keys };
    const job: RedriveJob = {
      id: randomUUID(),
      subscription,
      state: "running",
      matched: counted.matched,
      keys: counted.keys,
      moved: 0,
      actor: origin.actor,
      startedAt: this.#options.clock.now(),
    };
    await this.#catalog.put(REDRIVE_KIND, `${subscription}/${job.id}`, toValue(job), {
      expectedRevision: 0,
      ttlMs: REDRIVE_TTL_MS,
    });
    await this.#options.audit({ event: "started", job, request, pacing, origin });
    const run = this.#run(job, request, pacing, origin);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return { redrive: job.id, matched: counted.matched, keys: counted.keys };
  }

  async #run(
    job: RedriveJob,
    request: RedriveRequest,
    pacing: RedrivePacing,
    origin: RedriveOrigin,
  ): Promise<void> {
    const running: Running = { current: job, saved: Promise.resolve() };
    const heartbeat = setInterval(
      () => this.#save(running, running.current),
      this.#options.heartbeatMs ?? HEARTBEAT_MS,
    );
    heartbeat.unref();
    let current = job;
    try {
      current = await this.#moveAll(running, request, pacing);
      current = { ...current, state: "done", finishedAt: this.#options.clock.now() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // What it moved so far (the last chunk `#moveAll` saved), not the job as it started.
      current = {
        ...running.current,
        state: "failed",
        error: message,
        finishedAt: this.#options.clock.now(),
      };
    } finally {
      clearInterval(heartbeat);
    }
    this.#save(running, current);
    await running.saved;
    await this.#options
      .audit({ event: "finished", job: current, request, pacing, origin })
      .catch(() => undefined); // the job's own state already says how it ended
  }

  /** Moves chunk after chunk until nothing matches or the limit is reached. */
  async #moveAll(
    running: Running,
    request: RedriveRequest,
    pacing: RedrivePacing,
  ): Promise<RedriveJob> {
    const job = running.current;
    let current = job;
    let remaining = request.limit ?? Number.POSITIVE_INFINITY;
    const started = performance.now();
    for (;;) {
      const limit = Math.min(pacing.chunkSize, remaining);
      const result = await this.#cursors.redrive(job.subscription, {
        ...request,
        limit,
        dryRun: false,
      });
      remaining -= result.moved;
      current = { ...current, moved: current.moved + result.moved };
      this.#save(running, current);
      if (result.moved < limit || remaining <= 0) return current;
      await this.#pace(current.moved, started, pacing);
      if (this.#stop.signal.aborted)
        throw new SwitchyardError(
          "shutting_down",
          `the router stopped after ${current.moved} events; redrive again to move the rest`,
        );
    }
  }

  /**
   * Waits until `moved` events are within the rate since `started`. Real time, not the clock's:
   * the rate protects a real endpoint, and a test clock standing still must not stall it.
   */
  async #pace(moved: number, started: number, pacing: RedrivePacing): Promise<void> {
    if (pacing.ratePerSecond === null) return;
    const due = started + (moved / pacing.ratePerSecond) * 1000;
    const wait = due - performance.now();
    if (wait > 0)
      await sleep(wait, undefined, { signal: this.#stop.signal }).catch(() => undefined);
  }

  /** Any node's job; a running one whose node stopped writing it reads `failed`. */
  async get(subscription: string, id: string): Promise<RedriveJob> {
    if (!ID_PATTERN.test(id)) throw notFound(subscription, id);
    const entry = await this.#catalog.get(REDRIVE_KIND, `${subscription}/${id}`);
    const job = entry === null ? null : fromValue(entry.value);
    if (entry === null || job === null || job.subscription !== subscription)
      throw notFound(subscription, id);
    const staleMs = this.#options.staleMs ?? STALE_MS;
    if (job.state === "running" && this.#options.clock.now() - entry.updatedAt > staleMs)
      return { ...job, state: "failed", error: STALE_JOB_ERROR, finishedAt: entry.updatedAt };
    return job;
  }

  /** Stops pacing waits and waits for running jobs, so closing the engine never cuts one off. */
  async drain(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled([...this.#running]);
  }

  /**
   * Writes the job's record after the previous write (so the record never goes back in
   * time). A failed write is not fatal: the next one, at the latest the final one, retries.
   */
  #save(running: Running, job: RedriveJob): void {
    running.current = job;
    running.saved = running.saved.then(() =>
      this.#catalog
        .put(REDRIVE_KIND, `${job.subscription}/${job.id}`, toValue(job), {
          ttlMs: REDRIVE_TTL_MS,
        })
        .then(
          () => undefined,
          () => undefined,
        ),
    );
  }
}

function toValue(job: RedriveJob): CatalogValue {
  return { ...job };
}

/** A stored job, or null for a record that is not one. */
function fromValue(value: CatalogValue): RedriveJob | null {
  const { id, subscription, state, moved, startedAt } = value;
  if (typeof id !== "string" || typeof subscription !== "string") return null;
  if (state !== "running" && state !== "done" && state !== "failed") return null;
  if (typeof moved !== "number" || typeof startedAt !== "number") return null;
  return value as unknown as RedriveJob;
}
