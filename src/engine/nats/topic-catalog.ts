/**
 * Topic configs in the topics bucket, each backed by its stream. A cache serves the hot
 * append path, which only needs the dedupe window: entries live for a second, so another
 * node's change to a topic's window applies here within a second; an append to a deleted
 * topic fails at JetStream anyway (no stream) and drops the entry.
 */
import type { TopicConfig } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
import type { NatsContext } from "./context.js";
import { topicKey } from "./metadata.js";
import { deleteTopicStream, ensureTopicStream } from "./topic-streams.js";

const CACHE_MS = 1_000;

function withSticky(config: TopicConfig, stored: TopicConfig): TopicConfig {
  const owner = config.owner ?? stored.owner;
  const schemas = config.schemas ?? stored.schemas;
  return {
    ...config,
    ...(owner === undefined ? {} : { owner }),
    ...(schemas === undefined ? {} : { schemas }),
  };
}

export class TopicCatalog {
  readonly #ctx: NatsContext;
  readonly #cache = new Map<string, { readonly config: TopicConfig; readonly until: number }>();

  constructor(ctx: NatsContext) {
    this.#ctx = ctx;
  }

  /**
   * Creates or replaces the config; a router-owned topic stays so, and a put without
   * `schemas` keeps the stored ones (both are sticky).
   */
  async put(config: TopicConfig): Promise<{ readonly created: boolean }> {
    const key = topicKey(config.name);
    const bucket = this.#ctx.metadata.topics;
    await ensureTopicStream(this.#ctx, config);
    for (;;) {
      const existing = await bucket.get(key);
      if (existing === null) {
        if ((await bucket.create(key, config)) === null) continue;
        this.#remember(key, config);
        return { created: true };
      }
      const next = withSticky(config, existing.value);
      if ((await bucket.update(key, next, existing.revision)) === null) continue;
      this.#remember(key, next);
      return { created: false };
    }
  }

  #remember(key: string, config: TopicConfig): void {
    this.#cache.set(key, { config, until: Date.now() + CACHE_MS });
  }

  async get(name: string): Promise<TopicConfig | null> {
    const entry = await this.#ctx.metadata.topics.get(topicKey(name));
    return entry?.value ?? null;
  }

  /** The config for an append: from the cache when this node has seen it recently. */
  async forAppend(name: string): Promise<TopicConfig | null> {
    const key = topicKey(name);
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.until > Date.now()) return cached.config;
    const config = await this.get(name);
    if (config === null) this.#cache.delete(key);
    else this.#remember(key, config);
    return config;
  }

  forget(name: string): void {
    this.#cache.delete(topicKey(name));
  }

  async list(): Promise<TopicConfig[]> {
    const topics = await this.#ctx.metadata.topics.values();
    return topics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Deletes the topic unless a subscription reads it; false when it does not exist. */
  async delete(name: string): Promise<boolean> {
    const readers = (await this.#ctx.metadata.subscriptions.values()).filter(
      (s) => s.config.topic === name,
    );
    if (readers.length > 0)
      throw new SwitchyardError(
        "topic_in_use",
        `topic ${name} is read by subscription ${readers.map((r) => r.config.name).join(", ")}`,
      );
    const key = topicKey(name);
    const existing = await this.#ctx.metadata.topics.get(key);
    this.#cache.delete(key);
    if (existing === null) return false;
    await this.#ctx.metadata.topics.delete(key);
    await deleteTopicStream(this.#ctx, name);
    return true;
  }
}
