/**
 * The `subject` index on JetStream (docs/scale-out.md "Subject streams"). A topic is one
 * JetStream subject, so JetStream's per-subject expected sequence cannot compare versions of
 * one entity. Each (topic, subject) instead has a ledger subject
 * `{prefix}.sv.{topic}.{hash(subject)}` in one stream, and every write to it is a
 * compare-and-set (`Nats-Expected-Last-Subject-Sequence` = the sequence of the entry read):
 *
 * 1. `r` reserves version v for one event (its body kept in the entry),
 * 2. the event is appended to the topic with `Sy-Subject-Version: v` and its usual msg id,
 * 3. `c` commits version v at the event's offset (or `a` gives the reservation up when the
 *    topic answered that the event is a repeat of an earlier one).
 *
 * A node lost between 1 and 3 leaves a reservation; the next writer or reader of that subject
 * rolls it forward by publishing the kept event again (its msg id dedupes a copy that was
 * stored) before it does anything else, so a version is never skipped or reused while the
 * topic's dedupe window holds. Retention never touches the ledger: versions are not lowered.
 */

import { createHash } from "node:crypto";
import type { StreamConfig } from "@nats-io/jetstream";
import type { TopicConfig } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { Appended, IndexState, NewEvent, SubjectPage } from "../engine.js";
import { subjectOf } from "../event-attributes.js";
import type { NatsContext } from "./context.js";
import { isJsError, JS_CODES, unavailable } from "./errors.js";
import { escapeName } from "./names.js";
import { eventMsgId, type PublishItem, type PublishOutcome } from "./publisher.js";
import type { Puller } from "./puller.js";
import { SUBJECT_VERSION_HEADER } from "./records.js";
import { requestOne } from "./requests.js";
import { scanSubject } from "./scan.js";
import { type Found, firstReached } from "./sequence-search.js";
import { supportStreamConfig } from "./support-stream.js";
import { untilDone } from "./until-done.js";

const BACKFILL_CHUNK = 500;
/** Other nodes cache a topic's config for a second (topic-catalog.ts): a backfill waits it out. */
const STALE_CONFIG_MS = 1_100;
/** Compare-and-set rounds before an append gives up (each lost round means another won). */
const MAX_ROUNDS = 200;
/** Up to this many commits after the first are read one request each; more by a consumer. */
const FEW_COMMITS = 2;
/** The largest pull of a read's consumer (a page of 1,000 events is about 2,000 entries). */
const SCAN_BATCH = 2_048;
/** A read fetches its events from the topic this many at a time, while it reads the ledger. */
const RECORD_CHUNK = 200;

type Entry =
  | {
      readonly k: "r";
      readonly v: number;
      readonly m: string | null;
      readonly b: string;
      readonly key: string | null;
    }
  | {
      readonly k: "c";
      readonly v: number;
      readonly o: number;
      readonly m: string | null;
      readonly t: number;
    }
  | { readonly k: "a"; readonly v: number };

type Commit = Extract<Entry, { k: "c" }>;

interface Head {
  readonly entry: Entry;
  readonly seq: number;
}

interface MsgGetJson {
  readonly message?: { readonly data?: string; readonly seq?: number };
  readonly error?: { readonly err_code?: number; readonly description?: string };
}

export function subjectStreamConfig(prefix: string, replicas: number): StreamConfig {
  return supportStreamConfig(`${prefix}_SUBJECTS`, `${prefix}.sv.>`, replicas);
}

export function hasSubjectIndex(config: TopicConfig | null): boolean {
  return config?.indexes?.includes("subject") ?? false;
}

function versionOf(head: Head | null): number {
  if (head === null) return 0;
  return head.entry.k === "r" ? head.entry.v - 1 : head.entry.v;
}

function conflict(subject: string, current: number, expected: number): SwitchyardError {
  return new SwitchyardError(
    "version_conflict",
    `the stream of subject ${JSON.stringify(subject)} is at version ${current}, not ${expected}`,
    { details: { currentVersion: current } },
  );
}

/** Publishes one event to a topic (the event log's path, with its dedupe confirmations). */
export type PublishEvent = (topic: string, item: PublishItem) => Promise<PublishOutcome>;

export class SubjectLedger {
  readonly #ctx: NatsContext;
  readonly #puller: Puller;
  readonly #publishEvent: PublishEvent;
  readonly #running = new Set<string>();

  constructor(ctx: NatsContext, puller: Puller, publishEvent: PublishEvent) {
    this.#ctx = ctx;
    this.#puller = puller;
    this.#publishEvent = publishEvent;
  }

  get #stream(): string {
    return `${this.#ctx.names.prefix}_SUBJECTS`;
  }

  #subject(topic: string, subject: string): string {
    const hash = createHash("sha256").update(subject).digest("hex").slice(0, 32);
    return `${this.#ctx.names.prefix}.sv.${escapeName(topic)}.${hash}`;
  }

  /** The build mark's key; escaped topic names hold no dot, so it never meets a flow's key. */
  #markKey(topic: string): string {
    return `sv.${escapeName(topic)}`;
  }

  /** The last entry of a ledger subject, read from the stream's leader. */
  #head(ledger: string): Promise<Head | null> {
    return this.#get({ last_by_subj: ledger }, "reading a subject's version");
  }

  /** One entry by a `MSG.GET` request, from the stream's leader; null when there is none. */
  async #get(request: object, doing: string): Promise<Head | null> {
    const reply = await requestOne(
      this.#ctx.nc,
      this.#ctx.inbox,
      { subject: `$JS.API.STREAM.MSG.GET.${this.#stream}`, data: JSON.stringify(request) },
      this.#ctx.timeoutMs,
    );
    if (reply === undefined) throw unavailable(doing);
    const answer = JSON.parse(reply.string()) as MsgGetJson;
    if (answer.error?.err_code === JS_CODES.noMessageFound) return null;
    const data = answer.message?.data;
    if (answer.error !== undefined || data === undefined)
      throw unavailable(`${doing}: ${answer.error?.description}`);
    const entry = JSON.parse(Buffer.from(data, "base64").toString("utf8")) as Entry;
    return { entry, seq: answer.message?.seq ?? 0 };
  }

  /** Writes an entry if the ledger subject's last entry is still `after` (0: none); false if not. */
  async #put(ledger: string, entry: Entry, after: number, msgId: string | null = null) {
    const [outcome] = await this.#ctx.publisher.publish(ledger, [
      {
        body: JSON.stringify(entry),
        key: null,
        msgId,
        headers: { "Nats-Expected-Last-Subject-Sequence": String(after) },
      },
    ]);
    if (outcome?.kind === "stored") return outcome.seq;
    if (outcome?.kind === "failed" && outcome.jsCode === JS_CODES.wrongLastSequence) return null;
    throw outcome?.kind === "failed" ? outcome.error : unavailable("writing a subject's version");
  }

  /** Whether the topic's index is still being built from the events it held. */
  async building(topic: string): Promise<boolean> {
    return (await this.#ctx.metadata.indexBuilds.get(this.#markKey(topic))) !== null;
  }

  async #requireReady(topic: string, config: TopicConfig | null): Promise<void> {
    if (!hasSubjectIndex(config))
      throw new SwitchyardError(
        "index_missing",
        `topic ${topic} has no subject index (add "subject" to its indexes)`,
      );
    if (await this.building(topic))
      throw new SwitchyardError(
        "index_missing",
        `the subject index of topic ${topic} is still being built`,
      );
  }

  /**
   * Appends one event of `subject` with its next version, at `expected` when given. Dedupe
   * first: a repeat of the append that made version `expected + 1` answers `duplicate`.
   */
  async append(
    topic: string,
    config: TopicConfig,
    event: NewEvent,
    subject: string,
    expected: number | undefined,
  ): Promise<Appended> {
    const ledger = this.#subject(topic, subject);
    const msgId = config.dedupeWindowMs > 0 ? eventMsgId(event.source, event.id) : null;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const head = await this.#head(ledger);
      if (head?.entry.k === "r") {
        await this.#complete(topic, ledger, head.seq, head.entry).catch(() => undefined);
        continue;
      }
      const current = versionOf(head);
      if (expected !== undefined && current !== expected) {
        const repeat =
          msgId !== null && current > expected
            ? await this.#commitAt(ledger, expected + 1, head)
            : null;
        if (repeat !== null && repeat.m === msgId && repeat.t >= Date.now() - config.dedupeWindowMs)
          return { offset: repeat.o, duplicate: true, subjectVersion: repeat.v };
        throw conflict(subject, current, expected);
      }
      const reservation: Entry = {
        k: "r",
        v: current + 1,
        m: msgId,
        b: event.body,
        key: event.key,
      };
      const seq = await this.#put(ledger, reservation, head?.seq ?? 0);
      if (seq === null) continue; // another writer moved the stream: read it again
      return this.#complete(topic, ledger, seq, reservation);
    }
    throw unavailable(
      `appending to subject ${JSON.stringify(subject)}: too many concurrent writers`,
    );
  }

  /** Steps 2 and 3 for a reservation at ledger sequence `seq`. */
  async #complete(
    topic: string,
    ledger: string,
    seq: number,
    r: Extract<Entry, { k: "r" }>,
  ): Promise<Appended> {
    const outcome = await this.#publishEvent(topic, {
      body: r.b,
      key: r.key,
      msgId: r.m,
      headers: { [SUBJECT_VERSION_HEADER]: String(r.v) },
    });
    // Unknown whether it was stored: the reservation stays, the next writer rolls it forward.
    if (outcome.kind === "failed") return { error: outcome.error };
    if (outcome.kind === "no-stream") return { error: unavailable(`appending to topic ${topic}`) };
    if (outcome.duplicate) {
      const stream = this.#ctx.names.topicStream(topic);
      const [stored] = await this.#ctx.reader.range(stream, topic, outcome.seq, outcome.seq);
      if (stored?.subjectVersion !== r.v) {
        // A repeat of an event stored before: the reserved version is given up, unused.
        await this.#put(ledger, { k: "a", v: r.v - 1 }, seq);
        return stored?.subjectVersion === undefined
          ? { offset: outcome.seq, duplicate: true }
          : { offset: outcome.seq, duplicate: true, subjectVersion: stored.subjectVersion };
      }
    }
    // Lost only to a writer that rolled this same reservation forward: same offset either way.
    await this.#put(ledger, { k: "c", v: r.v, o: outcome.seq, m: r.m, t: Date.now() }, seq);
    return { offset: outcome.seq, duplicate: outcome.duplicate, subjectVersion: r.v };
  }

  /** The commit of `version`, found by its version (O(log n) requests), or null. */
  async #commitAt(ledger: string, version: number, head: Head | null): Promise<Commit | null> {
    if (head === null) return null;
    const found = await this.#findCommit(ledger, 1, head, (c) => c.v >= version, true);
    return found?.value.v === version ? found.value : null;
  }

  /** The ledger's first entry at or after stream sequence `seq`, read from the leader. */
  async #entryFrom(ledger: string, seq: number): Promise<Head | null> {
    return this.#get({ seq, next_by_subj: ledger }, "reading a subject's stream");
  }

  /** The first commit at or after `seq` and not after `head`: the few entries between are skipped. */
  async #commitFrom(ledger: string, seq: number, head: Head): Promise<Found<Commit> | null> {
    for (let at = seq; at <= head.seq; ) {
      const found = at === head.seq ? head : await this.#entryFrom(ledger, at);
      if (found === null || found.seq > head.seq) return null;
      if (found.entry.k === "c") return { seq: found.seq, value: found.entry };
      at = found.seq + 1;
    }
    return null;
  }

  /**
   * The first commit from `lo` up to `head` that `reached` accepts. Versions and the offsets
   * they name grow along the ledger, so this is a binary search over stream sequences.
   */
  #findCommit(
    ledger: string,
    lo: number,
    head: Head,
    reached: (c: Commit) => boolean,
    fromTop: boolean,
  ): Promise<Found<Commit> | null> {
    return firstReached(
      lo,
      head.seq,
      (seq) => this.#commitFrom(ledger, seq, head),
      reached,
      fromTop,
    );
  }

  /**
   * Up to `count` commits after stream sequence `after`, up to the head's version, handed to
   * `take` in order: a few entries one request each, more through one consumer that starts
   * there and stops once it has them.
   */
  async #commitsAfter(
    ledger: string,
    after: number,
    head: Head,
    count: number,
    take: (c: Commit) => void,
  ): Promise<void> {
    const version = versionOf(head);
    if (count <= 0 || after >= head.seq) return;
    let taken = 0;
    if (count <= FEW_COMMITS) {
      for (let at = after + 1; taken < count; taken++) {
        const found = await this.#commitFrom(ledger, at, head);
        if (found === null || found.value.v > version) return;
        take(found.value);
        at = found.seq + 1;
      }
      return;
    }
    let last = 0;
    let beyond = false;
    await scanSubject(
      this.#ctx,
      this.#puller,
      this.#stream,
      ledger,
      (msg) => {
        const entry = JSON.parse(msg.string()) as Entry;
        if (entry.k === "r" && entry.v > version) beyond = true;
        else if (entry.k === "c" && entry.v <= version && entry.v > last && taken < count) {
          last = entry.v;
          taken++;
          take(entry);
        }
      },
      {
        fromSeq: after + 1,
        // A commit per reservation, and a few given up: twice as many entries, and some.
        batch: Math.min(SCAN_BATCH, 2 * count + 2),
        done: () => beyond || taken >= count,
      },
    );
  }

  /** The events of `commits` from the topic, with their versions. */
  async #records(stream: string, topic: string, commits: readonly Commit[]): Promise<LogRecord[]> {
    const versionAt = new Map(commits.map((c) => [c.o, c.v]));
    const stored = await this.#ctx.reader.at(
      stream,
      topic,
      commits.map((c) => c.o),
    );
    return stored.map(
      (record): LogRecord => ({ ...record, subjectVersion: versionAt.get(record.offset) ?? 0 }),
    );
  }

  async read(
    topic: string,
    config: TopicConfig | null,
    subject: string,
    fromVersion: number,
    limit: number,
  ): Promise<SubjectPage> {
    await this.#requireReady(topic, config);
    const ledger = this.#subject(topic, subject);
    let head = await this.#head(ledger);
    if (head?.entry.k === "r") {
      await this.#complete(topic, ledger, head.seq, head.entry).catch(() => undefined);
      head = await this.#head(ledger);
    }
    const version = versionOf(head);
    if (head === null)
      return { records: [], version: 0, firstVersion: 1, next: Math.max(fromVersion, 1) };
    const stream = this.#ctx.names.topicStream(topic);
    const state = await this.#ctx.reader.state(stream, topic);
    // The first version retention left: the ledger's first commit, unless its event is gone.
    const retained = (c: Commit) => c.o >= state.first;
    const earliest = await this.#commitFrom(ledger, 1, head);
    const oldest =
      earliest === null || retained(earliest.value)
        ? earliest
        : await this.#findCommit(ledger, earliest.seq + 1, head, retained, false);
    const firstVersion = oldest?.value.v ?? version + 1;
    const from = Math.max(fromVersion, firstVersion);
    const start =
      oldest === null || limit <= 0 || from > version
        ? null
        : from === oldest.value.v
          ? oldest
          : await this.#findCommit(ledger, oldest.seq + 1, head, (c) => c.v >= from, true);
    // The events are fetched a chunk at a time while the ledger is still being read.
    const fetches: Promise<LogRecord[]>[] = [];
    let chunk: Commit[] = [];
    const flush = () => {
      if (chunk.length === 0) return;
      const fetch = this.#records(stream, topic, chunk);
      fetch.catch(() => undefined); // awaited below; not unhandled meanwhile
      fetches.push(fetch);
      chunk = [];
    };
    const take = (c: Commit) => {
      chunk.push(c);
      if (chunk.length >= RECORD_CHUNK) flush();
    };
    if (start !== null && start.value.v <= version) {
      take(start.value);
      await this.#commitsAfter(ledger, start.seq, head, limit - 1, take);
    }
    flush();
    const records = (await Promise.all(fetches)).flat();
    const last = records.at(-1)?.subjectVersion;
    return {
      records,
      version,
      firstVersion,
      next: last === undefined ? Math.max(fromVersion, firstVersion) : last + 1,
    };
  }

  async requireForAppend(topic: string, config: TopicConfig): Promise<void> {
    await this.#requireReady(topic, config);
  }

  async stats(config: TopicConfig, last: number): Promise<IndexState | undefined> {
    if (!hasSubjectIndex(config)) return undefined;
    const mark = await this.#ctx.metadata.indexBuilds.get(this.#markKey(config.name));
    if (mark === null) return { state: "ready", remaining: 0 };
    return { state: "building", remaining: Math.max(0, last - mark.value.pendingBelow + 1) };
  }

  /** After a put: starts the backfill of an added index, drops a removed one. */
  async changed(before: TopicConfig | null, after: TopicConfig): Promise<void> {
    const had = hasSubjectIndex(before);
    const has = hasSubjectIndex(after);
    if (had && !has) await this.drop(after.name);
    if (has && !had && before !== null) {
      await this.drop(after.name); // versions of a re-added index count the retained events afresh
      const stream = this.#ctx.names.topicStream(after.name);
      const state = await this.#ctx.reader.state(stream, after.name);
      if (state.messages === 0) return;
      // `pendingBelow` here is the next offset to number: the backfill runs oldest first.
      await this.#ctx.metadata.indexBuilds.put(this.#markKey(after.name), {
        pendingBelow: state.first,
      });
      this.resume(after.name);
    }
  }

  async drop(topic: string): Promise<void> {
    await this.#ctx.metadata.indexBuilds.delete(this.#markKey(topic));
    try {
      await this.#ctx.jsm.streams.purge(this.#stream, {
        filter: `${this.#ctx.names.prefix}.sv.${escapeName(topic)}.*`,
      });
    } catch (error) {
      if (!isJsError(error, JS_CODES.streamNotFound)) throw error;
    }
  }

  async resumeAll(): Promise<void> {
    const keys = await this.#ctx.metadata.indexBuilds.keys();
    for (const topic of await this.#ctx.metadata.topics.values())
      if (keys.includes(this.#markKey(topic.name))) this.resume(topic.name);
  }

  resume(topic: string): void {
    if (this.#running.has(topic)) return;
    this.#running.add(topic);
    this.#ctx
      .track(untilDone(this.#ctx, () => this.#backfill(topic)))
      .catch(() => undefined) // closed meanwhile: the mark stays, the next start carries on
      .finally(() => this.#running.delete(topic));
  }

  /**
   * Numbers the retained events oldest first, then drops the mark. Appends meanwhile are left
   * unnumbered (appenders read the mark) and the backfill goes on until it has caught up with
   * them; an append racing the mark's removal can stay unnumbered (docs/scale-out.md).
   */
  async #backfill(topic: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, STALE_CONFIG_MS));
    const stream = this.#ctx.names.topicStream(topic);
    const key = this.#markKey(topic);
    const heads = new Map<string, Head | null>();
    while (!this.#ctx.closed) {
      const mark = await this.#ctx.metadata.indexBuilds.get(key);
      if (mark === null) return; // dropped meanwhile
      const state = await this.#ctx.reader.state(stream, topic);
      const from = Math.max(mark.value.pendingBelow, state.first);
      const to = Math.min(state.last, from + BACKFILL_CHUNK - 1);
      for (const record of await this.#ctx.reader.range(stream, topic, from, to))
        await this.#number(topic, record, heads);
      if (to >= state.last) {
        await this.#ctx.metadata.indexBuilds.delete(key, mark.revision);
        return;
      }
      await this.#ctx.metadata.indexBuilds.update(key, { pendingBelow: to + 1 }, mark.revision);
    }
  }

  async #number(topic: string, record: LogRecord, heads: Map<string, Head | null>) {
    const subject = subjectOf(record.body, undefined);
    if (subject === null) return;
    const ledger = this.#subject(topic, subject);
    const head = heads.has(ledger) ? (heads.get(ledger) ?? null) : await this.#head(ledger);
    // A chunk numbered before a node was lost: its events already have their versions.
    if (head?.entry.k === "c" && head.entry.o >= record.offset) return;
    const entry: Entry = {
      k: "c",
      v: versionOf(head) + 1,
      o: record.offset,
      m: null,
      t: record.appendedAt,
    };
    // Keyed by offset: a chunk numbered twice (a node lost after writing it) is stored once.
    const seq = await this.#put(
      ledger,
      entry,
      head?.seq ?? 0,
      `${escapeName(topic)}:${record.offset}`,
    );
    heads.set(ledger, seq === null ? await this.#head(ledger) : { entry, seq });
  }
}
