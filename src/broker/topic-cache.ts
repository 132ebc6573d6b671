import type { Clock } from "../core/clock.js";
import type { TopicConfig } from "../core/config.js";
import type { EventLog } from "../engine/engine.js";

interface Entry {
  readonly config: TopicConfig;
  readonly at: number;
}

/**
 * Topic configs for the publish hot path. Entries live `ttlMs`, so a config changed by another
 * node is picked up within that time; changes made through this broker apply at once.
 * Unknown topics are not cached: the next publish asks the engine again.
 */
export class TopicCache {
  readonly #log: EventLog;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(log: EventLog, clock: Clock, ttlMs = 1_000) {
    this.#log = log;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /** The cached config while it is fresh, without a turn of the event loop; else undefined. */
  fresh(name: string): TopicConfig | undefined {
    const entry = this.#entries.get(name);
    return entry !== undefined && this.#clock.now() - entry.at < this.#ttlMs
      ? entry.config
      : undefined;
  }

  async get(name: string): Promise<TopicConfig | null> {
    const cached = this.fresh(name);
    if (cached !== undefined) return cached;
    const now = this.#clock.now();
    const config = await this.#log.getTopic(name);
    if (config === null) this.#entries.delete(name);
    else this.#entries.set(name, { config, at: now });
    return config;
  }

  set(config: TopicConfig): void {
    this.#entries.set(config.name, { config, at: this.#clock.now() });
  }

  forget(name: string): void {
    this.#entries.delete(name);
  }
}
