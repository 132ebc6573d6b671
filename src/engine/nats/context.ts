/** What every part of the NATS engine shares: the connection and the helpers built on it. */
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Inbox } from "./inbox.js";
import type { Metadata } from "./metadata.js";
import type { Names } from "./names.js";
import type { Publisher } from "./publisher.js";
import type { StreamReader } from "./stream-reader.js";

export interface NatsContext {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly inbox: Inbox;
  readonly names: Names;
  readonly metadata: Metadata;
  readonly publisher: Publisher;
  readonly reader: StreamReader;
  /** This engine instance's id, unique per process start. */
  readonly nodeId: string;
  /** Replicas of every stream and bucket the engine creates. */
  readonly replicas: number;
  /** How long to wait for any one answer from NATS. */
  readonly timeoutMs: number;
  /** Throws `engine_unavailable` once the engine is closed. */
  check(): void;
  readonly closed: boolean;
  /** Aborted by `close()`: wakes waiting leases and tails. */
  readonly closing: AbortSignal;
  /** Registers an operation that `close()` lets finish before closing the connection. */
  track<T>(work: Promise<T>): Promise<T>;
}
