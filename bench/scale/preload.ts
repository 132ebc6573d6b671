/**
 * Grows a router's data directory to a given number of stored events by appending through
 * the SQLite engine API in this process (no HTTP, no router running): the fast way to reach
 * millions of events. 10,000-event batches of 256-byte events, fsync interval (the preload's
 * durability is not what is measured).
 */
import "../../test/support/ts-resolve.ts";
import { randomUUID } from "node:crypto";
import type { Engine, NewEvent } from "../../src/engine/engine.ts";
import { EVENT_BYTES, EVENT_SOURCE, EVENT_TYPE } from "../payload.ts";

const { openSqliteEngine } = await import("../../src/engine/sqlite/index.ts");

const BATCH = 10_000;

function event(seq: number): NewEvent {
  const id = randomUUID();
  const envelope = {
    specversion: "1.0",
    id,
    source: EVENT_SOURCE,
    type: EVENT_TYPE,
    time: new Date().toISOString(),
  };
  const bare = JSON.stringify({ ...envelope, data: { seq, pad: "" } }).length;
  const pad = "x".repeat(Math.max(0, EVENT_BYTES - bare));
  return {
    id,
    source: EVENT_SOURCE,
    key: null,
    body: JSON.stringify({ ...envelope, data: { seq, pad } }),
  };
}

export interface PreloadTopic {
  readonly name: string;
  readonly dedupeWindowMs: number;
}

/** Creates `topic` if needed and appends until it holds `to` events (it holds `from`). */
export async function preloadStore(
  dir: string,
  topic: PreloadTopic,
  from: number,
  to: number,
  onProgress: (stored: number) => void,
): Promise<void> {
  const engine: Engine = await openSqliteEngine({ dir, fsync: "interval", retentionIntervalMs: 0 });
  try {
    await engine.log.putTopic({
      name: topic.name,
      retention: {},
      dedupeWindowMs: topic.dedupeWindowMs,
      maxEventBytes: 1_048_576,
    });
    let reported = from;
    for (let stored = from; stored < to; ) {
      const size = Math.min(BATCH, to - stored);
      await engine.log.append(
        topic.name,
        Array.from({ length: size }, (_, i) => event(stored + i)),
      );
      stored += size;
      if (stored - reported >= 1_000_000 || stored === to) {
        reported = stored;
        onProgress(stored);
      }
    }
  } finally {
    await engine.close();
  }
}
