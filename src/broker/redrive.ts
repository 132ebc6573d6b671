import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../core/clock.js";
import { SwitchyardError } from "../core/errors.js";
import type { CursorStore, RedriveRequest } from "../engine/engine.js";
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
  readonly clock: Clock;
  /** Records an audit entry durably; a failure to record fails the redrive (or its start). */
  readonly audit: (entry: RedriveAudit) => Promise<void>;
}

const KEEP_FINISHED = 1_000;

/**
 * Redrive jobs, kept in this process's memory: a job counts what matches (a dry run), answers
 * at once, and moves the events in the background, chunk by chunk at the requested rate, each
 * chunk the oldest remaining dead letters (so per-key order holds across chunks). An audit
 * entry is appended when a job starts and when it ends. Finished jobs are kept until
 * `KEEP_FINISHED` newer ones exist.
 */
export class RedriveJobs {
  readonly #cursors: CursorStore;
  readonly #options: RedriveJobsOptions;
  readonly #jobs = new Map<string, RedriveJob>();
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(cursors: CursorStore, options: RedriveJobsOptions) {
    this.#cursors = cursors;
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
    await this.#options.audit({ event: "started", job, request, pacing, origin });
    this.#put(job);
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
    let current = job;
    try {
      current = await this.#moveAll(job, request, pacing);
      current = { ...current, state: "done", finishedAt: this.#options.clock.now() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      current = {
        ...current,
        state: "failed",
        error: message,
        finishedAt: this.#options.clock.now(),
      };
    }
    this.#put(current);
    await this.#options
      .audit({ event: "finished", job: current, request, pacing, origin })
      .catch(() => undefined); // the job's own state already says how it ended
  }

  /** Moves chunk after chunk until nothing matches or the limit is reached. */
  async #moveAll(
    job: RedriveJob,
    request: RedriveRequest,
    pacing: RedrivePacing,
  ): Promise<RedriveJob> {
    let current = job;
    let remaining = request.limit ?? Number.POSITIVE_INFINITY;
    const started = this.#options.clock.now();
    for (;;) {
      const limit = Math.min(pacing.chunkSize, remaining);
      const result = await this.#cursors.redrive(job.subscription, {
        ...request,
        limit,
        dryRun: false,
      });
      remaining -= result.moved;
      current = { ...current, moved: current.moved + result.moved };
      this.#put(current);
      if (result.moved < limit || remaining <= 0) return current;
      await this.#pace(current.moved, started, pacing);
      if (this.#stop.signal.aborted)
        throw new SwitchyardError(
          "shutting_down",
          `the router stopped after ${current.moved} events; redrive again to move the rest`,
        );
    }
  }

  /** Waits until `moved` events are within the rate since `started`. */
  async #pace(moved: number, started: number, pacing: RedrivePacing): Promise<void> {
    if (pacing.ratePerSecond === null) return;
    const due = started + (moved / pacing.ratePerSecond) * 1000;
    const wait = due - this.#options.clock.now();
    if (wait > 0)
      await sleep(wait, undefined, { signal: this.#stop.signal }).catch(() => undefined);
  }

  get(subscription: string, id: string): RedriveJob {
    const job = this.#jobs.get(id);
    if (job === undefined || job.subscription !== subscription)
      throw new SwitchyardError(
        "redrive_not_found",
        `no redrive ${id} of subscription ${subscription}`,
      );
    return job;
  }

  /** Stops pacing waits and waits for running jobs, so closing the engine never cuts one off. */
  async drain(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled([...this.#running]);
  }

  #put(job: RedriveJob): void {
    this.#jobs.delete(job.id);
    this.#jobs.set(job.id, job);
    for (const [key, old] of this.#jobs) {
      if (this.#jobs.size <= KEEP_FINISHED) break;
      if (old.state !== "running") this.#jobs.delete(key);
    }
  }
}
