import { randomUUID } from "node:crypto";
import { SwitchyardError } from "../core/errors.js";
import type { CursorStore, RedriveRequest } from "../engine/engine.js";

export type RedriveState = "running" | "done" | "failed";

export interface RedriveJob {
  readonly id: string;
  readonly subscription: string;
  readonly state: RedriveState;
  readonly matched: number;
  readonly keys: number;
  readonly moved: number;
  readonly error?: string;
}

export interface RedriveStarted {
  /** Null for a dry run, which starts no job. */
  readonly redrive: string | null;
  readonly matched: number;
  readonly keys: number;
}

const KEEP_FINISHED = 1_000;

/**
 * Redrive jobs, kept in this process's memory: a job counts what matches (a dry run), answers
 * at once, and moves the events in the background. Finished jobs are kept until
 * `KEEP_FINISHED` newer ones exist.
 */
export class RedriveJobs {
  readonly #cursors: CursorStore;
  readonly #jobs = new Map<string, RedriveJob>();
  readonly #running = new Set<Promise<void>>();

  constructor(cursors: CursorStore) {
    this.#cursors = cursors;
  }

  async start(subscription: string, request: RedriveRequest): Promise<RedriveStarted> {
    const counted = await this.#cursors.redrive(subscription, { ...request, dryRun: true });
    if (request.dryRun === true)
      return { redrive: null, matched: counted.matched, keys: counted.keys };
    const id = randomUUID();
    this.#put({
      id,
      subscription,
      state: "running",
      matched: counted.matched,
      keys: counted.keys,
      moved: 0,
    });
    const run = this.#run(id, subscription, request);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return { redrive: id, matched: counted.matched, keys: counted.keys };
  }

  async #run(id: string, subscription: string, request: RedriveRequest): Promise<void> {
    const job = this.#jobs.get(id);
    if (job === undefined) return;
    try {
      const result = await this.#cursors.redrive(subscription, { ...request, dryRun: false });
      this.#put({
        ...job,
        state: "done",
        matched: result.matched,
        keys: result.keys,
        moved: result.moved,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#put({ ...job, state: "failed", error: message });
    }
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

  /** Waits for running jobs, so closing the engine never cuts one off. */
  async drain(): Promise<void> {
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
