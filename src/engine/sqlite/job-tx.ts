/**
 * What one job sees inside a group commit: the connection, the commit's clock reading, the
 * topics it touched (loaded once, written back when the job ends or, for checks-first jobs,
 * once per commit) and the dedupe entries it added. A job that throws is rolled back to its
 * savepoint (a checks-first job has none: it throws before writing) and its in-memory traces
 * undone, so it can never affect the other jobs sharing the commit.
 */
import { CommitReads } from "./commit-reads.js";
import type { Db } from "./database.js";
import type { DedupeIndex } from "./dedupe-index.js";
import { LeaseMemory } from "./pending-leases.js";
import { loadTopic, saveTopicCounters, type TopicState } from "./topic-state.js";

/** Dedupe entries added during one commit, applied to the indexes only once it is durable. */
export class PendingDedupe {
  readonly #byTopic = new Map<number, { at: number; entries: Map<number, number> }>();

  get(topicId: number, hash: number): number | undefined {
    return this.#byTopic.get(topicId)?.entries.get(hash);
  }

  set(topicId: number, hash: number, offset: number, at: number): void {
    let pending = this.#byTopic.get(topicId);
    if (pending === undefined) {
      pending = { at, entries: new Map() };
      this.#byTopic.set(topicId, pending);
    }
    pending.at = at;
    pending.entries.set(hash, offset);
  }

  delete(topicId: number, hash: number): void {
    this.#byTopic.get(topicId)?.entries.delete(hash);
  }

  applyTo(indexes: Map<number, DedupeIndex>): void {
    for (const [topicId, pending] of this.#byTopic) {
      const index = indexes.get(topicId);
      if (index === undefined) continue; // the topic was dropped in this commit
      for (const [hash, offset] of pending.entries) index.add(hash, offset, pending.at);
    }
  }
}

export class JobTx {
  readonly db: Db;
  /** One clock reading per commit: every job of a commit shares it. */
  readonly now: number;
  readonly dedupeIndexes: Map<number, DedupeIndex>;
  /** First leases held in memory (pending-leases.ts); changed only with an undo registered. */
  readonly leases: LeaseMemory;
  /** Events read by the commit's jobs, shared by them (commit-reads.ts). */
  readonly reads: CommitReads;
  readonly #pending: PendingDedupe;
  readonly #topics = new Map<string, TopicState>();
  readonly #commitTopics: Map<string, TopicState>;
  readonly #added: { topicId: number; hash: number; previous: number | undefined }[] = [];
  readonly #effects: (() => void)[] = [];
  readonly #undo: (() => void)[] = [];

  /**
   * `commitTopics`: the topics earlier jobs of the same commit loaded, as those jobs left
   * them (a job with a savepoint saves its counters before the savepoint is released; the
   * commit saves those of checks-first jobs, see group-commit.ts), so 64 single-event
   * appends to one topic read its row once, not 64 times. A job rolled back to its savepoint
   * drops what it touched from there: the next job reads the rolled-back row again.
   */
  constructor(
    db: Db,
    now: number,
    pending: PendingDedupe,
    indexes: Map<number, DedupeIndex>,
    commitTopics: Map<string, TopicState> = new Map(),
    leases: LeaseMemory = new LeaseMemory(),
    reads: CommitReads = new CommitReads(),
  ) {
    this.db = db;
    this.now = now;
    this.#pending = pending;
    this.dedupeIndexes = indexes;
    this.#commitTopics = commitTopics;
    this.leases = leases;
    this.reads = reads;
  }

  /** The topic's row, loaded once per commit; its counters are saved when the job ends. */
  topic(name: string): TopicState | null {
    const cached = this.#topics.get(name) ?? this.#commitTopics.get(name);
    if (cached !== undefined) {
      this.#topics.set(name, cached);
      return cached;
    }
    const loaded = loadTopic(this.db, name);
    if (loaded !== null) {
      this.#topics.set(name, loaded);
      this.#commitTopics.set(name, loaded);
    }
    return loaded;
  }

  /** Drops the copies of a topic whose row the job rewrites or deletes. */
  forgetTopic(name: string): void {
    const cached = this.#topics.get(name) ?? this.#commitTopics.get(name);
    if (cached !== undefined) saveTopicCounters(this.db, cached);
    this.#topics.delete(name);
    this.#commitTopics.delete(name);
  }

  pendingDedupe(topicId: number, hash: number): number | undefined {
    return this.#pending.get(topicId, hash);
  }

  addDedupe(topicId: number, hash: number, offset: number, at: number): void {
    this.#added.push({ topicId, hash, previous: this.#pending.get(topicId, hash) });
    this.#pending.set(topicId, hash, offset, at);
  }

  /** Runs after the commit is durable, and only if this job's work was committed. */
  afterCommit(effect: () => void): void {
    this.#effects.push(effect);
  }

  /** Registers how to take back an in-memory change if the job or its commit is rolled back. */
  onUndo(undo: () => void): void {
    this.#undo.push(undo);
  }

  /** Saves touched topics; called before the job's savepoint is released. */
  finish(): void {
    for (const topic of this.#topics.values()) saveTopicCounters(this.db, topic);
  }

  /**
   * Undoes in-memory traces after the job's savepoint was rolled back. `keepTopics`: the job
   * failed before changing anything (a checks-first job), so the rows it loaded stay shared.
   */
  undo(options: { readonly keepTopics: boolean }): void {
    if (!options.keepTopics) {
      for (const name of this.#topics.keys()) this.#commitTopics.delete(name);
      // What it read may include events it wrote (a dead letter) that are gone now.
      this.reads.clear();
    }
    for (const added of this.#added.reverse()) {
      if (added.previous === undefined) this.#pending.delete(added.topicId, added.hash);
      else this.#pending.set(added.topicId, added.hash, added.previous, this.now);
    }
    this.#effects.length = 0;
    for (const undo of this.#undo.reverse()) undo();
    this.#undo.length = 0;
  }

  get effects(): readonly (() => void)[] {
    return this.#effects;
  }
}
