import type { Payload } from "../payload.ts";
/**
 * The seam between scenarios and the systems they measure. Scenarios speak only this
 * interface, so Switchyard on each engine, and later NATS JetStream, RabbitMQ and Redis
 * Streams, run the same loads side by side (`--compare`).
 *
 * Every system runs in its own process on 127.0.0.1, never inside the bench's event loop.
 */

/** The numbers a benchmark event carries; the subject pads the message to `EVENT_BYTES`. */
export type EventFields = Readonly<Record<string, number>>;

export interface BenchSubject {
  /** e.g. "switchyard/sqlite"; a column in the report. */
  readonly name: string;
  /** Starts a fresh, empty system (own process, own data) and connects a client to it. */
  open(): Promise<SubjectSession>;
  /** Frees what the subject keeps across sessions (a vhost on a shared broker); optional. */
  dispose?(): Promise<void>;
}

export interface SubjectSession {
  /** Creates a topic (stream, queue…) that keeps everything published to it. */
  createTopic(topic: string): Promise<void>;
  /** A subscription that starts at the topic's first event and settles with acks. */
  createSubscription(topic: string, subscription: string): Promise<void>;
  /** The client's normal publish path: resolves when the system has durably accepted the event. */
  publish(topic: string, fields: EventFields): Promise<void>;
  /** One request per event over a pool of `connections` keep-alive connections. */
  singlePublisher(connections: number): SinglePublisher;
  /** The fastest way this system has to load `count` events; reports progress in events. */
  preload(topic: string, count: number, onProgress?: (loaded: number) => void): Promise<void>;
  /**
   * A push (webhook) subscription from the topic's first event to `url`; systems without
   * push delivery leave it out and the push scenarios report them as unsupported.
   */
  createPushSubscription?(topic: string, subscription: string, push: PushTarget): Promise<void>;
  /** Delivers each event's fields to `onEvent` and acks it after `onEvent` returns. */
  subscribe(
    subscription: string,
    concurrency: number,
    onEvent: (fields: EventFields) => void,
  ): Promise<Closable>;
  /** CPU milliseconds the system's processes have used so far (NaN when unknown). */
  cpuMs(): number;
  /** Milliseconds the system's main thread has waited for a CPU so far (NaN when unknown). */
  runQueueWaitMs(): number;
  /** Stops the client and the system and deletes its data. */
  close(): Promise<void>;
}

export interface SinglePublisher {
  publishOne(topic: string, fields: EventFields): Promise<void>;
  close(): Promise<void>;
}

export interface Closable {
  close(): Promise<void>;
}

export interface SubjectOptions {
  readonly fsync: "always" | "interval";
  readonly engine: string;
  /** Where data directories are created (a real disk: fsync on tmpfs measures nothing). */
  readonly dataRoot: string;
  /** Write a CPU profile of the system's process into this directory. */
  readonly profileDir: string | undefined;
  /** Switchyard only: run with auth, every request carrying an API key. */
  readonly auth?: boolean;
  /** Switchyard only: the topics' schema mode, with a schema registered for the event type. */
  readonly schemas?: "off" | "warn" | "enforce";
  /** Switchyard only: `--payload` (correlation ids on events; `indexed`: topics index them). */
  readonly payload?: Payload;
  /** Switchyard only: the `OTEL_*` environment of a router that traces (absent: tracing off). */
  readonly tracingEnv?: Readonly<Record<string, string>>;
  /** Switchyard only: the SDK's publish linger of `publish()` (absent: the SDK's default). */
  readonly lingerMs?: number;
}

export interface PushTarget {
  readonly url: string;
  /** Several events per request; absent: one event per request. */
  readonly batch?: { readonly maxEvents: number; readonly lingerMs: number };
}
