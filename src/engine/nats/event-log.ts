/**
 * The EventLog on JetStream: a stream per topic, offsets are stream sequences. JetStream
 * drops a repeated `Nats-Msg-Id` inside the stream's duplicate window without consuming a
 * sequence, and answers with the original's sequence, which is exactly the dedupe contract.
 * A batch is not atomic on JetStream 2.9: each event gets its own result.
 */
import type { TopicConfig } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
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
import { correlationIdOf, subjectOf } from "../event-attributes.js";
import type { NatsContext } from "./context.js";
import { topicNotFound, toSwitchyardError, unavailable } from "./errors.js";
import { FlowIndex, hasCorrelationIndex } from "./flow-index.js";
import { eventMsgId, type PublishItem, type PublishOutcome } from "./publisher.js";
import type { Puller } from "./puller.js";
import { hasSubjectIndex, SubjectLedger } from "./subject-ledger.js";
import { tailTopic } from "./tail.js";
import { TopicCatalog } from "./topic-catalog.js";

/** Appended to a `Nats-Msg-Id` whose original JetStream lost (see #confirmDuplicates). */
const COPY_SUFFIX = "~copy";
/**
 * JetStream answers a repeat of an id still being stored with sequence 0: ask again, for up
 * to this long (a commit slower than this means a leader that lost office mid-write).
 */
const INFLIGHT_PATIENCE_MS = 3_000;
const INFLIGHT_FIRST_PAUSE_MS = 25;
const INFLIGHT_MAX_PAUSE_MS = 250;

export class NatsEventLog implements EventLog {
  readonly topics: TopicCatalog;
  readonly flows: FlowIndex;
  readonly subjects: SubjectLedger;
  /** Runs after a topic is deleted (the engine drops its pending scheduled events). */
  onTopicDeleted: ((topic: string) => Promise<void>) | null = null;
  readonly #ctx: NatsContext;

  constructor(ctx: NatsContext, puller: Puller) {
    this.#ctx = ctx;
    this.topics = new TopicCatalog(ctx);
    this.flows = new FlowIndex(ctx, puller);
    this.subjects = new SubjectLedger(ctx, puller, (topic, item) => this.#publishOne(topic, item));
  }

  putTopic(config: TopicConfig): Promise<{ readonly created: boolean }> {
    return this.#guard("creating a topic", async () => {
      const before = await this.topics.get(config.name);
      const result = await this.topics.put(config);
      await this.flows.changed(before, config);
      await this.subjects.changed(before, config);
      return result;
    });
  }

  flow(correlationId: string, limit: number): Promise<FlowPage> {
    return this.#guard("reading a flow", () => this.flows.flow(correlationId, limit));
  }

  readSubject(
    topic: string,
    subject: string,
    fromVersion: number,
    limit: number,
  ): Promise<SubjectPage> {
    return this.#guard("reading a subject", async () => {
      const config = await this.topics.get(topic);
      if (config === null) throw topicNotFound(topic);
      return this.subjects.read(topic, config, subject, fromVersion, limit);
    });
  }

  getTopic(name: string): Promise<TopicConfig | null> {
    return this.#guard("reading a topic", () => this.topics.get(name));
  }

  listTopics(): Promise<readonly TopicConfig[]> {
    return this.#guard("listing topics", () => this.topics.list());
  }

  deleteTopic(name: string): Promise<boolean> {
    return this.#guard("deleting a topic", async () => {
      const deleted = await this.topics.delete(name);
      if (deleted) {
        await this.flows.drop(name);
        await this.subjects.drop(name);
        await this.onTopicDeleted?.(name);
      }
      return deleted;
    });
  }

  append(
    topic: string,
    events: readonly NewEvent[],
    condition: AppendCondition = {},
  ): Promise<readonly Appended[]> {
    return this.#guard("appending", () => this.#append(topic, events, condition));
  }

  async #append(
    topic: string,
    events: readonly NewEvent[],
    condition: AppendCondition,
  ): Promise<Appended[]> {
    const config = await this.topics.forAppend(topic);
    if (config === null) throw topicNotFound(topic);
    const answered =
      condition.expectedVersion !== undefined
        ? [await this.#appendAt(topic, config, events, condition.expectedVersion)]
        : hasSubjectIndex(config) && !(await this.subjects.building(topic))
          ? await this.#appendNumbered(topic, config, events)
          : await this.#appendPlain(topic, config, events);
    if (hasCorrelationIndex(config)) await this.#index(topic, events, answered);
    return answered;
  }

  /** One event, appended only at `expected` (the ledger's compare-and-set). */
  async #appendAt(
    topic: string,
    config: TopicConfig,
    events: readonly NewEvent[],
    expected: number,
  ): Promise<Appended> {
    await this.subjects.requireForAppend(topic, config);
    const event = events[0];
    const subject = event === undefined ? null : subjectOf(event.body, event.subject);
    if (events.length !== 1 || event === undefined || subject === null)
      throw new SwitchyardError(
        "invalid_request",
        "an append with expectedVersion holds one event with a subject on this engine (no atomic batches)",
        { errors: [{ pointer: "query:expectedVersion", message: "one event with a subject" }] },
      );
    const result = await this.subjects.append(topic, config, event, subject, expected);
    if ("error" in result) throw result.error;
    return result;
  }

  /** On a topic indexed by subject: one event at a time, so each gets its version in order. */
  async #appendNumbered(
    topic: string,
    config: TopicConfig,
    events: readonly NewEvent[],
  ): Promise<Appended[]> {
    const answered: Appended[] = [];
    for (const event of events) {
      const subject = subjectOf(event.body, event.subject);
      if (subject === null) {
        answered.push(...(await this.#appendPlain(topic, config, [event])));
        continue;
      }
      answered.push(
        await this.subjects
          .append(topic, config, event, subject, undefined)
          .catch((error: unknown) => ({ error: toSwitchyardError(error, "appending") })),
      );
    }
    return answered;
  }

  async #publishOne(topic: string, item: PublishItem): Promise<PublishOutcome> {
    const [outcome] = await this.#publish(topic, [item]);
    if (outcome?.kind === "no-stream") await this.#noStream(topic);
    return outcome ?? { kind: "failed", error: unavailable("appending") };
  }

  async #appendPlain(
    topic: string,
    config: TopicConfig,
    events: readonly NewEvent[],
  ): Promise<Appended[]> {
    const dedupe = config.dedupeWindowMs > 0;
    // A repeat inside this batch is answered from its first occurrence, never sent.
    const firstOf = new Map<string, number>();
    const copyOf: (number | undefined)[] = [];
    const items: PublishItem[] = [];
    const sentIndex: number[] = [];
    events.forEach((event, i) => {
      const msgId = dedupe ? eventMsgId(event.source, event.id) : null;
      const first = msgId === null ? undefined : firstOf.get(msgId);
      copyOf.push(first);
      if (first !== undefined) return;
      if (msgId !== null) firstOf.set(msgId, i);
      items.push({ body: event.body, key: event.key, msgId });
      sentIndex.push(i);
    });
    const outcomes = await this.#publish(topic, items);
    await this.#confirmDuplicates(
      topic,
      items,
      sentIndex.map((i) => events[i] as NewEvent),
      outcomes,
    );
    if (outcomes.every((o) => o.kind === "no-stream")) await this.#noStream(topic);
    const results = Array.from<Appended | undefined>({ length: events.length });
    outcomes.forEach((outcome, j) => {
      results[sentIndex[j] ?? 0] = appendedOf(outcome, topic);
    });
    copyOf.forEach((first, i) => {
      if (first === undefined) return;
      const original = results[first];
      results[i] =
        original !== undefined && "offset" in original
          ? { offset: original.offset, duplicate: true }
          : (original ?? { error: unavailable("appending") });
    });
    // Every event gets an answer: one nobody confirmed is an error, never left out.
    return results.map((result) => result ?? { error: unavailable("appending") });
  }

  /**
   * Index entries for the newly stored events, after the events: JetStream has no
   * transaction across streams, so a node lost in between leaves those events out of flows
   * (docs/scale-out.md). A failed entry fails its event's answer, so the client retries.
   */
  async #index(topic: string, events: readonly NewEvent[], answered: Appended[]): Promise<void> {
    const entries: { offset: number; correlationId: string }[] = [];
    const owners: number[] = [];
    answered.forEach((result, i) => {
      const event = events[i];
      if (event === undefined || !("offset" in result) || result.duplicate) return;
      const correlationId = correlationIdOf(event.body, event.correlationId);
      if (correlationId === null) return;
      entries.push({ offset: result.offset, correlationId });
      owners.push(i);
    });
    if (entries.length === 0) return;
    try {
      await this.flows.add(topic, entries);
    } catch (error) {
      const failed = toSwitchyardError(error, "indexing events");
      for (const i of owners) answered[i] = { error: failed };
    }
  }

  async #publish(topic: string, items: readonly PublishItem[]): Promise<PublishOutcome[]> {
    const subject = this.#ctx.names.topicSubject(topic);
    const outcomes = await this.#ctx.publisher.publish(subject, items);
    const inFlight = () =>
      outcomes.flatMap((o, i) => (o.kind === "stored" && o.duplicate && o.seq === 0 ? [i] : []));
    const deadline = Date.now() + INFLIGHT_PATIENCE_MS;
    let pauseMs = INFLIGHT_FIRST_PAUSE_MS;
    for (let again = inFlight(); again.length > 0; again = inFlight()) {
      // An earlier copy "still being stored" for this long was a write whose leader lost
      // office mid-proposal: JetStream (2.10.27) keeps answering so until the dedupe window
      // ends, and the copy never commits. Store the event under its derived id instead.
      const stuck = Date.now() >= deadline;
      if (!stuck) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, INFLIGHT_MAX_PAUSE_MS);
      const retried = await this.#ctx.publisher.publish(
        subject,
        again.map((i) =>
          stuck ? derivedCopy(items[i] as PublishItem) : (items[i] as PublishItem),
        ),
      );
      again.forEach((i, k) => {
        outcomes[i] = retried[k] as PublishOutcome;
      });
      if (stuck) break;
    }
    return outcomes.map((o) => unconfirmedAsFailed(o, topic));
  }

  /**
   * A duplicate answer is only as good as the message it names: after a leader change
   * JetStream (2.10 seen here) can remember an id in its dedupe window while the message it
   * points at was lost, and a 201 for that event would be a 201 for nothing stored. Such an
   * event is stored again under a second id derived from the first, so a further retry
   * dedupes against the copy; one that cannot be confirmed either way fails, never a 201.
   */
  async #confirmDuplicates(
    topic: string,
    items: PublishItem[],
    events: readonly NewEvent[],
    outcomes: PublishOutcome[],
  ): Promise<void> {
    const stream = this.#ctx.names.topicStream(topic);
    const subject = this.#ctx.names.topicSubject(topic);
    const lostOnes = async (indexes: readonly number[]) => {
      const held = await Promise.all(
        indexes.map((i) => {
          const outcome = outcomes[i];
          const event = events[i] as NewEvent;
          return outcome?.kind === "stored"
            ? this.#ctx.reader.holdsEvent(stream, topic, outcome.seq, event)
            : true;
        }),
      );
      return indexes.filter((_, k) => !held[k]);
    };
    const duplicates = outcomes.flatMap((o, i) =>
      o.kind === "stored" && o.duplicate && o.seq > 0 ? [i] : [],
    );
    if (duplicates.length === 0) return;
    const lost = await lostOnes(duplicates);
    if (lost.length === 0) return;
    const copies = lost.map((i) => derivedCopy(items[i] as PublishItem));
    const stored = await this.#ctx.publisher.publish(subject, copies);
    lost.forEach((i, k) => {
      outcomes[i] = stored[k] as PublishOutcome;
    });
    const stillDuplicates = lost.filter((i) => {
      const o = outcomes[i];
      return o?.kind === "stored" && o.duplicate;
    });
    for (const i of await lostOnes(stillDuplicates))
      outcomes[i] = {
        kind: "failed",
        error: unavailable(
          `appending to topic ${topic}: JetStream's dedupe window names a message it does not hold`,
        ),
      };
  }

  /** No stream answered: the topic is gone, or its stream has no leader at the moment. */
  async #noStream(topic: string): Promise<void> {
    this.topics.forget(topic);
    if ((await this.topics.get(topic)) === null) throw topicNotFound(topic);
  }

  read(topic: string, from: LogPosition, limit: number): Promise<LogPage> {
    return this.#guard("reading", () => this.#read(topic, from, limit));
  }

  async #read(topic: string, from: LogPosition, limit: number): Promise<LogPage> {
    const stream = this.#ctx.names.topicStream(topic);
    const reader = this.#ctx.reader;
    const state = await reader.state(stream, topic);
    const wanted =
      "offset" in from ? from.offset : await reader.firstAtOrAfter(stream, topic, from.time);
    const start = Math.max(wanted, state.first);
    const end = Math.min(start + Math.max(limit, 0) - 1, state.last);
    const records = await reader.range(stream, topic, start, end);
    const last = records.at(-1);
    return { records, next: last === undefined ? start : last.offset + 1 };
  }

  tail(topic: string, from: LogPosition, signal: AbortSignal): AsyncIterable<LogRecord> {
    this.#ctx.check();
    return tailTopic(this.#ctx, topic, from, signal, (f, limit) => this.read(topic, f, limit));
  }

  stats(topic: string): Promise<TopicStats> {
    return this.#guard("reading topic stats", async () => {
      const state = await this.#ctx.reader.state(this.#ctx.names.topicStream(topic), topic);
      const config = await this.topics.get(topic);
      const correlationid =
        config === null ? undefined : await this.flows.stats(config, state.first);
      const subject = config === null ? undefined : await this.subjects.stats(config, state.last);
      const indexes = {
        ...(subject === undefined ? {} : { subject }),
        ...(correlationid === undefined ? {} : { correlationid }),
      };
      return {
        events: state.messages,
        bytes: state.bytes,
        firstOffset: state.first,
        lastOffset: state.last,
        ...(Object.keys(indexes).length === 0 ? {} : { indexes }),
      };
    });
  }

  enforceRetention(): Promise<RetentionResult> {
    return this.#guard("enforcing retention", async () => {
      let deletedEvents = 0;
      let deletedBytes = 0;
      for (const topic of await this.topics.list()) {
        const done = await this.#trimByAge(topic);
        deletedEvents += done.deletedEvents;
        deletedBytes += done.deletedBytes;
      }
      return { deletedEvents, deletedBytes };
    });
  }

  /** JetStream trims by count and bytes on append and by age on a timer; this trims age now. */
  async #trimByAge(topic: TopicConfig): Promise<RetentionResult> {
    const maxAgeMs = topic.retention.maxAgeMs;
    const none = { deletedEvents: 0, deletedBytes: 0 };
    if (maxAgeMs === undefined || maxAgeMs <= 0) return none;
    const stream = this.#ctx.names.topicStream(topic.name);
    const reader = this.#ctx.reader;
    const before = await reader.state(stream, topic.name);
    const keepFrom = await reader.firstAtOrAfter(stream, topic.name, Date.now() - maxAgeMs);
    if (keepFrom <= before.first) return none;
    const purged = await this.#ctx.jsm.streams.purge(stream, { seq: keepFrom });
    const after = await reader.state(stream, topic.name);
    return { deletedEvents: purged.purged, deletedBytes: Math.max(0, before.bytes - after.bytes) };
  }

  async #guard<T>(doing: string, work: () => Promise<T>): Promise<T> {
    this.#ctx.check();
    try {
      return await this.#ctx.track(work());
    } catch (error) {
      throw toSwitchyardError(error, doing);
    }
  }
}

/** The event under its derived `Nats-Msg-Id`, so retries of the copy dedupe against it. */
function derivedCopy(item: PublishItem): PublishItem {
  return { ...item, msgId: item.msgId === null ? null : `${item.msgId}${COPY_SUFFIX}` };
}

/**
 * A duplicate answered with sequence 0 after every retry names an earlier copy still being
 * stored, which may never commit (its leader cut off mid-write): no confirmation. Taken as
 * stored it became a 201 with offset 0 for an event no replica held (partition test).
 */
export function unconfirmedAsFailed(outcome: PublishOutcome, topic: string): PublishOutcome {
  if (outcome.kind !== "stored" || !outcome.duplicate || outcome.seq !== 0) return outcome;
  return {
    kind: "failed",
    error: unavailable(
      `appending to topic ${topic}: JetStream still reports an earlier copy of the event as being stored; publish it again with the same source and id`,
    ),
  };
}

function appendedOf(outcome: PublishOutcome, topic: string): Appended {
  switch (outcome.kind) {
    case "stored":
      return { offset: outcome.seq, duplicate: outcome.duplicate };
    case "no-stream":
      return {
        error: new SwitchyardError(
          "engine_unavailable",
          `the stream of topic ${topic} did not answer (no leader?)`,
        ),
      };
    case "failed":
      return { error: outcome.error };
  }
}
