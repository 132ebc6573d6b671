/**
 * The event types a topic carries, as the AsyncAPI document lists them: the types of its
 * newest events (at most `RECENT_EVENTS`). No index of types per topic exists, so this reads
 * the tail of the log — remembered per topic until the topic's last offset moves, so an
 * idle topic costs one `stats` call per document.
 */
import type { LogReader } from "./newest.js";
import { newestRecords } from "./newest.js";

export const RECENT_EVENTS = 1_000;

interface Seen {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly types: readonly string[];
}

function typeOf(body: string): string | undefined {
  const event = JSON.parse(body) as { readonly type?: unknown };
  return typeof event.type === "string" ? event.type : undefined;
}

export class TopicTypes {
  readonly #log: LogReader;
  readonly #seen = new Map<string, Seen>();

  constructor(log: LogReader) {
    this.#log = log;
  }

  /** The distinct types among the topic's newest events, sorted. */
  async of(topic: string): Promise<readonly string[]> {
    const { firstOffset, lastOffset } = await this.#log.stats(topic);
    const seen = this.#seen.get(topic);
    if (seen?.lastOffset === lastOffset && seen.firstOffset === firstOffset) return seen.types;
    const types = new Set<string>();
    for await (const record of newestRecords(this.#log, topic, RECENT_EVENTS)) {
      const type = typeOf(record.body);
      if (type !== undefined) types.add(type);
    }
    const sorted = [...types].sort();
    this.#seen.set(topic, { firstOffset, lastOffset, types: sorted });
    return sorted;
  }

  /** Forgets topics that no longer exist (a deleted and re-created topic restarts its offsets). */
  keepOnly(topics: ReadonlySet<string>): void {
    for (const topic of this.#seen.keys()) if (!topics.has(topic)) this.#seen.delete(topic);
  }
}
