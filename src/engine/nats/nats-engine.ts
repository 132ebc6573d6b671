/**
 * The Engine on NATS JetStream: topics are streams, subscriptions durable pull consumers,
 * configuration and shared state KV buckets. Switchyard nodes hold no durable state: any
 * number of them can open this engine on one JetStream (cluster) with the same prefix.
 * JetStream 2.9 cannot append a batch atomically, so `capabilities.atomicBatch` is false.
 */

import { randomBytes } from "node:crypto";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { CatalogScheduleStore } from "../catalog-schedule.js";
import type { Engine, EngineCapabilities } from "../engine.js";
import { attemptStreamConfig } from "./attempt-log.js";
import { NatsCatalog, openCatalogBucket } from "./catalog.js";
import type { NatsContext } from "./context.js";
import { connectionOptions, type NatsCredentials } from "./credentials.js";
import { NatsCursorStore } from "./cursor-store.js";
import { DEFAULT_DEAD_LETTER_TOPIC } from "./dead-letter.js";
import { closedError, isJsError, JS_CODES, unavailable } from "./errors.js";
import { NatsEventLog } from "./event-log.js";
import { flowStreamConfig } from "./flow-index.js";
import { Inbox } from "./inbox.js";
import { Acks } from "./js-acks.js";
import { Metadata } from "./metadata.js";
import { Names } from "./names.js";
import { Owners } from "./ownership.js";
import { Publisher } from "./publisher.js";
import { Puller } from "./puller.js";
import { StreamReader } from "./stream-reader.js";
import { subjectStreamConfig } from "./subject-ledger.js";
import { supportStreamConfig } from "./support-stream.js";

export interface NatsEngineOptions {
  /** NATS server URLs (a comma-separated string or a list). */
  readonly servers: string | readonly string[];
  /** Names every stream, bucket and subject of this installation; default "SY". */
  readonly prefix?: string;
  /** Replicas of every stream and bucket (3 on a three-node cluster); default 1. */
  readonly replicas?: number;
  /** How long to wait for any one answer from NATS; default 10 s. */
  readonly timeoutMs?: number;
  /** How long `open` keeps trying to reach JetStream; default 30 s. */
  readonly connectTimeoutMs?: number;
  /** Credentials and TLS for the connection; none by default. */
  readonly credentials?: NatsCredentials;
  /**
   * How long the delete markers of fired and cancelled scheduled events stay in the
   * Catalog bucket; default `DEFAULT_MARKER_KEEP_MS` (10 minutes).
   */
  readonly scheduledMarkerKeepMs?: number;
}

export class NatsEngine implements Engine {
  readonly name = "nats";
  readonly capabilities: EngineCapabilities = { atomicBatch: false };
  readonly log: NatsEventLog;
  readonly cursors: NatsCursorStore;
  readonly catalog: NatsCatalog;
  readonly scheduled: CatalogScheduleStore;
  readonly #ctx: NatsContext;
  readonly #owners: Owners;
  readonly #closing: AbortController;
  readonly #inFlight: Set<Promise<unknown>>;
  #closed: Promise<void> | null = null;

  private constructor(
    ctx: NatsContext,
    catalog: NatsCatalog,
    closing: AbortController,
    inFlight: Set<Promise<unknown>>,
    markerKeepMs: number | undefined,
  ) {
    this.#ctx = ctx;
    this.catalog = catalog;
    this.#closing = closing;
    this.#inFlight = inFlight;
    const puller = new Puller(ctx.nc, ctx.names.pullPrefix(ctx.nodeId), ctx.timeoutMs);
    this.log = new NatsEventLog(ctx, puller);
    const acks = new Acks(ctx.nc, ctx.inbox, ctx.timeoutMs);
    const createTopic = async (name: string) => {
      await this.log.topics.put({ name, ...DEFAULT_DEAD_LETTER_TOPIC });
    };
    this.#owners = new Owners({ ctx, puller, acks, createTopic });
    this.cursors = new NatsCursorStore(ctx, this.#owners, this.log.topics, puller);
    this.scheduled = new CatalogScheduleStore({
      catalog,
      keys: (kind, prefix) => catalog.keys(kind, prefix),
      now: () => Date.now(),
      signal: closing.signal,
      timeoutMs: ctx.timeoutMs,
      ...(markerKeepMs === undefined ? {} : { markerKeepMs }),
      erase: async (kind, key, revision) => {
        const bucket = ctx.names.catalogBucket;
        // Up to the marker, not past it: the same key written again since stays.
        await ctx.track(
          ctx.jsm.streams.purge(`KV_${bucket}`, {
            filter: `$KV.${bucket}.${kind}.${key}`,
            seq: revision + 1,
          }),
        );
      },
      topicExists: async (topic) => (await this.log.topics.get(topic)) !== null,
      append: async (topic, items) => {
        const outcomes = await ctx.publisher.publish(ctx.names.topicSubject(topic), items);
        if (outcomes.every((o) => o.kind === "no-stream")) return null;
        return outcomes.map((o) => o.kind === "stored");
      },
    });
    this.log.onTopicDeleted = (topic) => this.scheduled.drop(topic);
  }

  static async open(options: NatsEngineOptions): Promise<NatsEngine> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const nc = await connectTo(options);
    try {
      const names = new Names(options.prefix ?? "SY");
      const replicas = options.replicas ?? 1;
      const { jsm, metadata, catalogKv } = await retryUntil(
        options.connectTimeoutMs ?? 30_000,
        async () => {
          const jsm = await jetstreamManager(nc, { timeout: 5_000 });
          await jsm.getAccountInfo();
          const metadata = await Metadata.open(nc, names, replicas);
          const catalogKv = await openCatalogBucket(nc, names, replicas);
          await ensureSupportStreams(jsm, names, replicas);
          return { jsm, metadata, catalogKv };
        },
      );
      const nodeId = randomBytes(6).toString("hex");
      const inbox = new Inbox(nc, names.inboxPrefix(nodeId));
      const closing = new AbortController();
      const inFlight = new Set<Promise<unknown>>();
      const ctx: NatsContext = {
        nc,
        jsm,
        inbox,
        names,
        metadata,
        nodeId,
        replicas,
        timeoutMs,
        publisher: new Publisher(nc, inbox, timeoutMs),
        reader: new StreamReader(nc, inbox, timeoutMs),
        closing: closing.signal,
        get closed() {
          return closing.signal.aborted;
        },
        check() {
          if (closing.signal.aborted) throw closedError();
        },
        track<T>(work: Promise<T>): Promise<T> {
          inFlight.add(work);
          void work.then(
            () => inFlight.delete(work),
            () => inFlight.delete(work),
          );
          return work;
        },
      };
      const catalog = new NatsCatalog(ctx, catalogKv);
      const engine = new NatsEngine(ctx, catalog, closing, inFlight, options.scheduledMarkerKeepMs);
      engine.#owners.start();
      // Index builds carry on in the background: reading their marks while the cluster elects
      // leaders (a node just lost) must not keep the router from opening.
      void ctx
        .track(
          retryUntil(options.connectTimeoutMs ?? 30_000, async () => {
            if (ctx.closed) return;
            await engine.log.flows.resumeAll();
            await engine.log.subjects.resumeAll();
          }),
        )
        .catch(() => undefined); // the marks stay: the next start (or put) carries on
      return engine;
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw unavailable("opening the NATS engine", error);
    }
  }

  /** This engine instance's node id (it names the subscriptions it owns in the bucket). */
  get nodeId(): string {
    return this.#ctx.nodeId;
  }

  async ready(signal?: AbortSignal): Promise<void> {
    this.#ctx.check();
    signal?.throwIfAborted();
    try {
      await this.#ctx.jsm.getAccountInfo();
    } catch (error) {
      throw unavailable("reaching JetStream", error);
    }
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    // Fired events' records first, so none is left `firing` to be appended again later.
    await this.scheduled.settle();
    this.#closing.abort();
    await Promise.allSettled([...this.#inFlight]);
    this.catalog.close();
    await this.#owners.close().catch(() => undefined);
    this.#ctx.inbox.close();
    await this.#ctx.nc.drain().catch(() => undefined);
  }

  /**
   * Simulates a crash (tests): the connection is cut at once, nothing in flight finishes,
   * nothing is released; other nodes see this one vanish.
   */
  async kill(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#closing.abort();
    this.#owners.abandon();
    this.catalog.close();
    this.#closed = this.#ctx.nc.close().catch(() => undefined);
    return this.#closed;
  }
}

export function openNatsEngine(options: NatsEngineOptions): Promise<NatsEngine> {
  return NatsEngine.open(options);
}

function serverList(servers: string | readonly string[]): string[] {
  const list = typeof servers === "string" ? servers.split(",") : [...servers];
  return list.map((s) => s.trim()).filter((s) => s.length > 0);
}

async function connectTo(options: NatsEngineOptions): Promise<NatsConnection> {
  try {
    return await connect({
      ...connectionOptions(options.credentials),
      servers: serverList(options.servers),
      name: "switchyard",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
    });
  } catch (error) {
    throw unavailable(`connecting to NATS at ${serverList(options.servers).join(",")}`, error);
  }
}

/**
 * A fresh cluster elects its JetStream meta leader a moment after it starts, and a cluster
 * that just lost a node elects new leaders: keep trying for a while.
 */
async function retryUntil<T>(timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** The streams every installation has besides its topics': redrive queues and attempt logs. */
async function ensureSupportStreams(jsm: JetStreamManager, names: Names, replicas: number) {
  const redrive = supportStreamConfig(names.redriveStream, `${names.prefix}.rd.>`, replicas);
  const streams = [
    redrive,
    attemptStreamConfig(names, replicas),
    flowStreamConfig(names, replicas),
    subjectStreamConfig(names.prefix, replicas),
  ];
  for (const config of streams) {
    try {
      await jsm.streams.add(config);
    } catch (error) {
      if (!isJsError(error, JS_CODES.streamNameInUse)) throw error;
    }
  }
}
