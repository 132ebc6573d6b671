import type { Clock } from "../core/clock.js";
import type { RetentionConfig, TopicConfig, TopicIndex } from "../core/config.js";
import { SwitchyardError } from "../core/errors.js";
import { assertTopicName, isRouterTopicName } from "../core/names.js";
import type { LogPosition } from "../core/positions.js";
import type { Engine, LogPage, SubjectPage } from "../engine/engine.js";
import { isRouterOwned, publishForbidden, withOwnerByName } from "./router-topics.js";
import { TopicCache } from "./topic-cache.js";
import { defaultTopicConfig, parseTopicConfig } from "./topic-config.js";
import { type TopicView, topicView } from "./views.js";

function notFound(name: string, pointer = "path:topic"): SwitchyardError {
  return new SwitchyardError("topic_not_found", `topic ${name} does not exist`, {
    errors: [{ pointer, message: "no such topic" }],
  });
}

function notRouterOwned(name: string, config: TopicConfig): TopicConfig {
  if (isRouterOwned(config)) throw publishForbidden(name);
  return config;
}

/** Topic administration and log reads. */
export class Topics {
  readonly #engine: Engine;
  readonly #autoCreate: boolean;
  readonly #autoIndexes: readonly TopicIndex[];
  readonly cache: TopicCache;

  constructor(
    engine: Engine,
    clock: Clock,
    autoCreate: boolean,
    autoIndexes: readonly TopicIndex[] = [],
  ) {
    this.#engine = engine;
    this.#autoCreate = autoCreate;
    this.#autoIndexes = autoIndexes;
    this.cache = new TopicCache(engine.log, clock);
  }

  /**
   * A router-owned topic stays so: the engine keeps the marker the body cannot carry (and
   * the schema settings a body leaves out). `vet` may refuse the parsed config.
   */
  async put(
    name: string,
    body: unknown,
    vet?: (config: TopicConfig) => void,
  ): Promise<{ created: boolean; topic: TopicView }> {
    const config = withOwnerByName(parseTopicConfig(name, body));
    vet?.(config);
    const { created } = await this.#engine.log.putTopic(config);
    const stored = (await this.#engine.log.getTopic(name)) ?? config;
    this.cache.set(stored);
    return { created, topic: topicView(stored) };
  }

  async get(name: string): Promise<TopicView> {
    assertTopicName(name, "path:topic");
    const config = await this.#engine.log.getTopic(name);
    if (config === null) throw notFound(name);
    return topicView(config, await this.#engine.log.stats(name));
  }

  async list(): Promise<TopicView[]> {
    const configs = await this.#engine.log.listTopics();
    return configs.map((c) => topicView(c));
  }

  /**
   * The topic's config. An unknown topic is created with defaults when auto-create is on and
   * `mayCreate` (the request may manage it: decided from its key, never from whether the
   * topic existed a moment ago); otherwise 404.
   */
  async require(name: string, pointer = "path:topic", mayCreate = true): Promise<TopicConfig> {
    assertTopicName(name, pointer);
    const config = await this.cache.get(name);
    if (config !== null) return config;
    if (!this.#autoCreate || !mayCreate) throw notFound(name, pointer);
    const fresh = defaultTopicConfig(name);
    const indexes = this.#autoIndexes.length === 0 ? {} : { indexes: [...this.#autoIndexes] };
    return this.#write(withOwnerByName({ ...fresh, ...indexes }));
  }

  /**
   * The config of a topic users may publish to: router-owned topics answer 403 whether
   * they exist or not (an unknown `switchyard.*` one is not auto-created). `mayCreate` as
   * for `require`, asked only when the topic is not cached. A cached config comes back as it
   * is, not in a promise: the publish hot path then takes no turns of the promise queue.
   */
  publishable(
    name: string,
    mayCreate: (topic: string) => boolean,
  ): TopicConfig | Promise<TopicConfig> {
    assertTopicName(name, "path:topic");
    if (isRouterTopicName(name)) throw publishForbidden(name);
    const cached = this.cache.fresh(name);
    if (cached !== undefined) return notRouterOwned(name, cached);
    return this.require(name, "path:topic", mayCreate(name)).then((config) =>
      notRouterOwned(name, config),
    );
  }

  /**
   * A router-owned topic (a dead-letter topic, `switchyard.audit`): created with defaults
   * (`retention` when given) unless it exists, marked if it exists unmarked (callers check
   * first that it may be).
   */
  async ensure(name: string, retention?: RetentionConfig): Promise<TopicConfig> {
    const cached = await this.cache.get(name);
    if (cached?.owner === "router") return cached;
    // Marking keeps the topic's settings: read them fresh, not from a cache a second old.
    const current = cached === null ? null : await this.#engine.log.getTopic(name);
    const fresh = defaultTopicConfig(name);
    const initial = retention === undefined ? fresh : { ...fresh, retention };
    return this.#write({ ...(current ?? initial), owner: "router" });
  }

  async #write(config: TopicConfig): Promise<TopicConfig> {
    await this.#engine.log.putTopic(config);
    this.cache.set(config);
    return config;
  }

  async readSubject(
    name: string,
    subject: string,
    fromVersion: number,
    limit: number,
  ): Promise<SubjectPage> {
    assertTopicName(name, "path:topic");
    if ((await this.cache.get(name)) === null) throw notFound(name);
    return this.#engine.log.readSubject(name, subject, fromVersion, limit);
  }

  async read(name: string, from: LogPosition, limit: number): Promise<LogPage> {
    assertTopicName(name, "path:topic");
    if ((await this.cache.get(name)) === null) throw notFound(name);
    return this.#engine.log.read(name, from, limit);
  }

  /** Deletes the topic; subscriptions using it (reading it or as dead-letter topic) block unless `force`. */
  async delete(name: string, force: boolean): Promise<void> {
    assertTopicName(name, "path:topic");
    if ((await this.#engine.log.getTopic(name)) === null) throw notFound(name);
    const subs = await this.#engine.cursors.listSubscriptions();
    const users = subs.filter((s) => s.topic === name || s.deadLetterTopic === name);
    if (users.length > 0 && !force)
      throw new SwitchyardError(
        "topic_in_use",
        `topic ${name} is used by subscription(s) ${users.map((s) => s.name).join(", ")}; delete them first or pass force=true`,
        { errors: [{ pointer: "query:force", message: "subscriptions use this topic" }] },
      );
    for (const sub of users) await this.#engine.cursors.deleteSubscription(sub.name);
    this.cache.forget(name);
    if (!(await this.#engine.log.deleteTopic(name))) throw notFound(name);
  }
}
