/** `EventLog` over the SQLite store: writes go through group commit, reads straight to the connection. */
import type { TopicConfig } from "../../core/config.js";
import type { LogPosition } from "../../core/positions.js";
import type { LogRecord } from "../../core/stored-event.js";
import type {
  AppendCondition,
  Appended,
  EventLog,
  FlowPage,
  LogPage,
  NewEvent,
  RetentionResult,
  SubjectPage,
  TopicStats,
} from "../engine.js";
import { appendJob } from "./append.js";
import type { EngineContext } from "./context.js";
import { readFlow } from "./correlation-index.js";
import { closedError, topicNotFound, toSwitchyardError } from "./errors.js";
import { readPage, tailTopic } from "./read.js";
import { backfillIndexes } from "./retention.js";
import { topicStats } from "./stats.js";
import { readSubjectPage } from "./subject-index.js";
import { loadAllTopics, loadTopic } from "./topic-state.js";
import { deleteTopicJob, putTopicJob } from "./topics.js";

export class SqliteEventLog implements EventLog {
  readonly #ctx: EngineContext;
  readonly #retention: () => Promise<RetentionResult>;

  constructor(ctx: EngineContext, retention: () => Promise<RetentionResult>) {
    this.#ctx = ctx;
    this.#retention = retention;
  }

  /** Runs a read on the connection, mapping native errors. */
  #read<T>(doing: string, read: () => T): Promise<T> {
    if (this.#ctx.isClosed()) return Promise.reject(closedError());
    try {
      return Promise.resolve(read());
    } catch (error) {
      return Promise.reject(toSwitchyardError(error, doing));
    }
  }

  async putTopic(config: TopicConfig): Promise<{ readonly created: boolean }> {
    const result = await this.#ctx.writer.submit(1, (tx) => putTopicJob(tx, config));
    // An index added to a topic holding events fills in now, not at the next retention pass.
    if (config.indexes !== undefined && config.indexes.length > 0)
      backfillIndexes(this.#ctx).catch(() => undefined);
    return result;
  }

  flow(correlationId: string, limit: number): Promise<FlowPage> {
    return this.#read("reading a flow", () => readFlow(this.#ctx.db, correlationId, limit));
  }

  getTopic(name: string): Promise<TopicConfig | null> {
    return this.#read("reading a topic", () => loadTopic(this.#ctx.db, name)?.config ?? null);
  }

  listTopics(): Promise<readonly TopicConfig[]> {
    return this.#read("listing topics", () => loadAllTopics(this.#ctx.db).map((t) => t.config));
  }

  async deleteTopic(name: string): Promise<boolean> {
    const deleted = await this.#ctx.writer.submit(1, (tx) => deleteTopicJob(tx, name));
    if (deleted) this.#ctx.topicChanged(name);
    return deleted;
  }

  append(
    topic: string,
    events: readonly NewEvent[],
    condition?: AppendCondition,
  ): Promise<readonly Appended[]> {
    if (events.length === 0)
      return this.#read("appending", () => {
        if (loadTopic(this.#ctx.db, topic) === null) throw topicNotFound(topic);
        return [];
      });
    // appendJob throws what it means to (unknown topic, version conflict) before it writes.
    return this.#ctx.writer.submit(
      events.length,
      (tx) => appendJob(tx, topic, events, this.#ctx.topicChanged, condition),
      { checksFirst: true },
    );
  }

  readSubject(
    topic: string,
    subject: string,
    fromVersion: number,
    limit: number,
  ): Promise<SubjectPage> {
    return this.#read("reading a subject", () => {
      const state = loadTopic(this.#ctx.db, topic);
      if (state === null) throw topicNotFound(topic);
      return readSubjectPage(this.#ctx.db, state, subject, fromVersion, limit);
    });
  }

  read(topic: string, from: LogPosition, limit: number): Promise<LogPage> {
    return this.#read("reading events", () => readPage(this.#ctx.db, topic, from, limit));
  }

  tail(topic: string, from: LogPosition, signal: AbortSignal): AsyncIterable<LogRecord> {
    return tailTopic(this.#ctx, topic, from, signal);
  }

  stats(topic: string): Promise<TopicStats> {
    return this.#read("reading topic stats", () => topicStats(this.#ctx.db, topic));
  }

  enforceRetention(): Promise<RetentionResult> {
    if (this.#ctx.isClosed()) return Promise.reject(closedError());
    return this.#retention();
  }
}
