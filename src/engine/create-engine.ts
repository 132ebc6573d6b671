/** Builds the configured engine; the one place that knows every engine implementation. */
import type { Clock } from "../core/clock.js";
import type { Engine } from "./engine.js";
import type { NatsCredentials } from "./nats/index.js";
import { openSqliteEngine } from "./sqlite/index.js";

export type EngineOptions =
  | {
      readonly kind: "sqlite";
      readonly dataDir: string;
      readonly fsync?: "always" | "interval";
      /** Default the system clock. */
      readonly clock?: Clock;
    }
  | {
      readonly kind: "nats";
      /** NATS server URLs, comma-separated. */
      readonly servers: string;
      /** Names this installation's streams and buckets; default "SY". */
      readonly prefix?: string;
      /** Stream and bucket replicas; default 1 (use 3 on a three-node cluster). */
      readonly replicas?: number;
      readonly credentials?: NatsCredentials;
    };

export async function createEngine(options: EngineOptions): Promise<Engine> {
  if (options.kind === "nats") {
    // Loaded only when asked for: the NATS client costs a SQLite router ~0.2 s of CPU at start.
    const { openNatsEngine } = await import("./nats/index.js");
    return openNatsEngine({
      servers: options.servers,
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  }
  return openSqliteEngine({
    dir: options.dataDir,
    ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}
