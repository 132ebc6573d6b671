/**
 * The `correlationid` index on JetStream (docs/scale-out.md "Flows"): one stream of small
 * entries `{ c, t, o }` (correlation id, topic, offset) on the subject
 * `{prefix}.fl.{hash(c)}.{topic}`. A flow is one filtered pass over a single subject family,
 * then direct gets of the events: JetStream's own subject index does the lookup, and
 * dropping a topic's entries is one purge by subject. An entry's message id is
 * `{topic}:{offset}`, so an entry written twice (by a backfill and a live append racing it)
 * is stored once. Entries of events that retention removed are skipped when read.
 */

import { createHash } from "node:crypto";
import type { StreamConfig } from "@nats-io/jetstream";
import type { TopicConfig } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { FlowPage, IndexState } from "../engine.js";
import { correlationIdOf } from "../event-attributes.js";
import type { NatsContext } from "./context.js";
import { isJsError, JS_CODES } from "./errors.js";
import { escapeName, type Names } from "./names.js";
import type { PublishItem } from "./publisher.js";
import type { Puller } from "./puller.js";
import { parseAckSubject } from "./records.js";
import { scanSubject } from "./scan.js";
import { supportStreamConfig } from "./support-stream.js";
import { untilDone } from "./until-done.js";

const BACKFILL_CHUNK = 500;
/** Other nodes cache a topic's config for a second (topic-catalog.ts): a backfill waits it out. */
const STALE_CONFIG_MS = 1_100;

export function flowStreamConfig(names: Names, replicas: number): StreamConfig {
  return supportStreamConfig(`${names.prefix}_FLOWS`, `${names.prefix}.fl.>`, replicas);
}

export function hasCorrelationIndex(config: TopicConfig | null): boolean {
  return config?.indexes?.includes("correlationid") ?? false;
}

interface Entry {
  readonly c: string;
  readonly t: string;
  readonly o: number;
}

/** A topic's build mark in the index-builds bucket: events below `pendingBelow` still to go. */
export interface IndexBuild {
  readonly pendingBelow: number;
}

export class FlowIndex {
  readonly #ctx: NatsContext;
  readonly #puller: Puller;
  readonly #running = new Set<string>();

  constructor(ctx: NatsContext, puller: Puller) {
    this.#ctx = ctx;
    this.#puller = puller;
  }

  get #stream(): string {
    return `${this.#ctx.names.prefix}_FLOWS`;
  }

  #subject(correlationId: string, topic: string): string {
    const hash = createHash("sha256").update(correlationId).digest("hex").slice(0, 32);
    return `${this.#ctx.names.prefix}.fl.${hash}.${escapeName(topic)}`;
  }

  /** Writes the entries of stored events; awaited by the append, so a 201 means indexed. */
  async add(topic: string, entries: readonly { offset: number; correlationId: string }[]) {
    await Promise.all(
      entries.map(async ({ offset, correlationId }) => {
        const entry: Entry = { c: correlationId, t: topic, o: offset };
        const item: PublishItem = {
          body: JSON.stringify(entry),
          key: null,
          msgId: `${escapeName(topic)}:${offset}`,
        };
        const [outcome] = await this.#ctx.publisher.publish(this.#subject(correlationId, topic), [
          item,
        ]);
        if (outcome?.kind !== "stored")
          throw new SwitchyardError(
            "engine_unavailable",
            `indexing event ${offset} of topic ${topic} failed`,
          );
      }),
    );
  }

  /** After a put: starts the backfill of an added index, drops a removed one. */
  async changed(before: TopicConfig | null, after: TopicConfig): Promise<void> {
    const had = hasCorrelationIndex(before);
    const has = hasCorrelationIndex(after);
    if (had && !has) await this.drop(after.name);
    if (has && !had && before !== null) {
      const state = await this.#ctx.reader.state(
        this.#ctx.names.topicStream(after.name),
        after.name,
      );
      if (state.messages === 0) return;
      const mark: IndexBuild = { pendingBelow: state.last + 1 };
      await this.#ctx.metadata.indexBuilds.put(escapeName(after.name), mark);
      this.resume(after.name);
    }
  }

  /** The topic is gone, or no longer indexed: its entries and build mark go. */
  async drop(topic: string): Promise<void> {
    await this.#ctx.metadata.indexBuilds.delete(escapeName(topic));
    try {
      await this.#ctx.jsm.streams.purge(this.#stream, {
        filter: `${this.#ctx.names.prefix}.fl.*.${escapeName(topic)}`,
      });
    } catch (error) {
      if (!isJsError(error, JS_CODES.streamNotFound)) throw error;
    }
  }

  /** Runs (here) the backfill of every topic with a build mark; called at start. */
  async resumeAll(): Promise<void> {
    for (const topic of await this.#buildingTopics()) this.resume(topic);
  }

  resume(topic: string): void {
    if (this.#running.has(topic)) return;
    this.#running.add(topic);
    this.#ctx
      .track(untilDone(this.#ctx, () => this.#backfill(topic)))
      .catch(() => undefined) // closed meanwhile: the mark stays, the next start carries on
      .finally(() => this.#running.delete(topic));
  }

  async #backfill(topic: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, STALE_CONFIG_MS));
    const stream = this.#ctx.names.topicStream(topic);
    const key = escapeName(topic);
    // Events appended while other nodes still had the old config are covered too.
    let state = await this.#ctx.reader.state(stream, topic);
    let pending = state.last + 1;
    while (!this.#ctx.closed) {
      const mark = await this.#ctx.metadata.indexBuilds.get(key);
      if (mark === null) return; // dropped meanwhile
      state = await this.#ctx.reader.state(stream, topic);
      const lower = Math.max(state.first, pending - BACKFILL_CHUNK);
      const records = await this.#ctx.reader.range(stream, topic, lower, pending - 1);
      await this.add(topic, entriesOf(records));
      pending = lower;
      if (pending <= state.first) {
        await this.#ctx.metadata.indexBuilds.delete(key, mark.revision);
        return;
      }
      await this.#ctx.metadata.indexBuilds.update(key, { pendingBelow: pending }, mark.revision);
    }
  }

  async #buildingTopics(known?: readonly TopicConfig[]): Promise<string[]> {
    const topics = known ?? (await this.#ctx.metadata.topics.values());
    const building = new Set(await this.#ctx.metadata.indexBuilds.keys());
    return topics.filter((t) => building.has(escapeName(t.name))).map((t) => t.name);
  }

  async stats(config: TopicConfig, first: number): Promise<IndexState | undefined> {
    if (!hasCorrelationIndex(config)) return undefined;
    const mark = await this.#ctx.metadata.indexBuilds.get(escapeName(config.name));
    if (mark === null || mark.value.pendingBelow <= first) return { state: "ready", remaining: 0 };
    return { state: "building", remaining: mark.value.pendingBelow - first };
  }

  async flow(correlationId: string, limit: number): Promise<FlowPage> {
    const topics = (await this.#ctx.metadata.topics.values()).filter(hasCorrelationIndex);
    const building = await this.#buildingTopics(topics);
    if (building.length > 0)
      throw new SwitchyardError(
        "index_missing",
        `the correlationid index of topic(s) ${building.sort().join(", ")} is still being built`,
      );
    const indexed = new Set(topics.map((t) => t.name));
    const entries: { entry: Entry; seq: number }[] = [];
    const seen = new Set<string>();
    const hash = this.#subject(correlationId, "x").split(".").at(-2);
    await scanSubject(
      this.#ctx,
      this.#puller,
      this.#stream,
      `${this.#ctx.names.prefix}.fl.${hash}.*`,
      (msg) => {
        const entry = JSON.parse(msg.string()) as Entry;
        const id = `${entry.t}\u0000${entry.o}`;
        if (entry.c !== correlationId || !indexed.has(entry.t) || seen.has(id)) return;
        seen.add(id);
        entries.push({ entry, seq: parseAckSubject(msg.reply ?? "")?.streamSeq ?? entries.length });
      },
    );
    const found = await Promise.all(
      entries.map(async ({ entry, seq }) => {
        const stream = this.#ctx.names.topicStream(entry.t);
        const [record] = await this.#ctx.reader.range(stream, entry.t, entry.o, entry.o);
        return record === undefined ? [] : [{ record, seq }];
      }),
    );
    const records: LogRecord[] = found
      .flat()
      .sort((a, b) => a.record.appendedAt - b.record.appendedAt || a.seq - b.seq)
      .map((f) => f.record);
    return { records: records.slice(0, limit), truncated: records.length > limit };
  }
}

function entriesOf(records: readonly LogRecord[]): { offset: number; correlationId: string }[] {
  return records.flatMap((r) => {
    const correlationId = correlationIdOf(r.body, undefined);
    return correlationId === null ? [] : [{ offset: r.offset, correlationId }];
  });
}
