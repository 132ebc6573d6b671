/**
 * Switchyard as a benchmark subject: the real CLI in a child process (`bin/switchyard.js
 * serve`) on a fresh data directory, driven by the built SDK (`dist/client/index.js`) and, for
 * one-request-per-event publishing, by an undici keep-alive pool.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Pool } from "undici";
import type { SwitchyardClient } from "../../src/client/index.ts";
import { type NatsServers, startNatsServer } from "../../test/support/nats-server.ts";
import { type RouterProcess, startRouterProcess } from "../../test/support/router-process.ts";
import { processCpuMs, runQueueWaitMs } from "../cpu.ts";
import { windowed } from "../load.ts";
import {
  cloudEventData,
  EVENT_SOURCE,
  EVENT_TYPE,
  type Payload,
  payloadAttributes,
  payloadIndexes,
} from "../payload.ts";
import type {
  BenchSubject,
  Closable,
  EventFields,
  PushTarget,
  SinglePublisher,
  SubjectOptions,
  SubjectSession,
} from "./subject.ts";

type Sdk = typeof import("../../src/client/index.ts");

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DIST_CLIENT = join(ROOT, "dist/client/index.js");
/** Preloading: the router's largest batch, several batches in flight. */
const PRELOAD_BATCH = 10_000;
const PRELOAD_CLIENTS = 2;
const PRELOAD_MAX_MS = 30 * 60_000;

async function loadSdk(): Promise<Sdk> {
  if (!existsSync(DIST_CLIENT))
    throw new Error(`${DIST_CLIENT} is missing: run \`npm run build\` first`);
  return (await import(pathToFileURL(DIST_CLIENT).href)) as Sdk;
}

/** A key in the router's format, `sy_<16 [a-z0-9]>_<43 base62>` (bench-only, unbiased enough). */
function benchKey(): string {
  const pick = (alphabet: string, n: number) =>
    [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join("");
  const lower = "abcdefghijklmnopqrstuvwxyz0123456789";
  return `sy_${pick(lower, 16)}_${pick(`${lower.slice(0, 26).toUpperCase()}${lower}`, 43)}`;
}

export function switchyardSubject(options: SubjectOptions): BenchSubject {
  return {
    name: `switchyard/${options.engine}`,
    async open() {
      const sdk = await loadSdk();
      const dataDir = await mkdtemp(join(options.dataRoot, "switchyard-bench-"));
      // On the NATS engine the router gets a nats-server of its own, like raw JetStream does.
      const nats = options.engine === "nats" ? await startNatsServer() : undefined;
      const natsArgs = nats === undefined ? [] : ["--nats-url", nats.url];
      const apiKey = options.auth ? benchKey() : undefined;
      const env = {
        ...options.tracingEnv,
        ...(apiKey === undefined ? {} : { SWITCHYARD_ADMIN_KEY: apiKey }),
      };
      const router = await startRouterProcess({
        dataDir,
        ...(apiKey === undefined ? {} : { auth: true }),
        env,
        fsync: options.fsync,
        // The push scenarios' sink listens on 127.0.0.1.
        args: ["--engine", options.engine, "--allow-private-endpoints", ...natsArgs],
        nodeArgs: options.profileDir ? ["--cpu-prof", "--cpu-prof-dir", options.profileDir] : [],
      }).catch(async (error: unknown) => {
        await nats?.close();
        throw error;
      });
      const session = new SwitchyardSession(sdk, router, {
        dataDir,
        nats,
        apiKey,
        payload: options.payload,
        lingerMs: options.lingerMs,
      });
      await session.registerSchema(options.schemas ?? "off");
      return session;
    },
  };
}

interface SessionOptions {
  readonly dataDir: string;
  readonly nats: NatsServers | undefined;
  readonly apiKey: string | undefined;
  readonly payload: Payload | undefined;
  /** The SDK publish linger of `publish()`; absent: the SDK's default. */
  readonly lingerMs: number | undefined;
}

class SwitchyardSession implements SubjectSession {
  readonly #sdk: Sdk;
  readonly #router: RouterProcess;
  readonly #dataDir: string;
  readonly #client: SwitchyardClient;
  readonly #nats: NatsServers | undefined;
  readonly #auth: { apiKey?: string };
  #schemaMode: "off" | "warn" | "enforce" = "off";
  readonly #payload: Payload;

  constructor(sdk: Sdk, router: RouterProcess, options: SessionOptions) {
    const { apiKey, lingerMs } = options;
    this.#payload = options.payload ?? "plain";
    this.#sdk = sdk;
    this.#router = router;
    this.#dataDir = options.dataDir;
    this.#nats = options.nats;
    this.#auth = apiKey === undefined ? {} : { apiKey };
    this.#client = sdk.createClient({
      url: router.url,
      source: EVENT_SOURCE,
      ...this.#auth,
      ...(lingerMs === undefined ? {} : { batch: { lingerMs } }),
    });
  }

  /**
   * `--schemas warn|enforce`: registers a schema of the bench event's data (its fields
   * numbers, `pad` a string), so every publish is validated and stamped.
   */
  async registerSchema(mode: "off" | "warn" | "enforce"): Promise<void> {
    this.#schemaMode = mode;
    if (mode === "off") return;
    const schema = {
      type: "object",
      properties: { pad: { type: "string", maxLength: 1024 } },
      required: ["pad"],
      additionalProperties: { type: "number" },
    };
    const res = await fetch(`${this.#router.url}/v1/schemas/${EVENT_TYPE}`, {
      method: "PUT",
      headers: {
        "content-type": "application/json",
        ...(this.#auth.apiKey === undefined
          ? {}
          : { authorization: `Bearer ${this.#auth.apiKey}` }),
      },
      body: JSON.stringify({ schema }),
    });
    if (res.status !== 201 && res.status !== 200)
      throw new Error(`registering the bench schema: ${res.status} ${await res.text()}`);
  }

  async createTopic(topic: string): Promise<void> {
    await this.#client.admin.topics.put(topic, {
      ...(this.#schemaMode === "off" ? {} : { schemas: { mode: this.#schemaMode } }),
      ...(payloadIndexes(this.#payload).length > 0
        ? { indexes: payloadIndexes(this.#payload) }
        : {}),
    });
  }

  async createSubscription(topic: string, subscription: string): Promise<void> {
    await this.#client.admin.subscriptions.put(subscription, {
      topic,
      start: "earliest",
      maxInFlight: 10_000,
    });
  }

  async createPushSubscription(
    topic: string,
    subscription: string,
    push: PushTarget,
  ): Promise<void> {
    await this.#client.admin.subscriptions.put(subscription, {
      topic,
      start: "earliest",
      maxInFlight: 10_000,
      push: { url: push.url, ...(push.batch ? { batch: push.batch } : {}) },
    });
  }

  async publish(topic: string, fields: EventFields): Promise<void> {
    await this.#client.publish(topic, {
      type: EVENT_TYPE,
      ...payloadAttributes(this.#payload),
      data: cloudEventData(fields),
    });
  }

  singlePublisher(connections: number): SinglePublisher {
    return new PoolPublisher(this.#router.url, connections, this.#auth.apiKey, this.#payload);
  }

  async preload(
    topic: string,
    count: number,
    onProgress?: (loaded: number) => void,
  ): Promise<void> {
    const clients = Array.from({ length: PRELOAD_CLIENTS }, () =>
      this.#sdk.createClient({
        url: this.#router.url,
        source: EVENT_SOURCE,
        ...this.#auth,
        batch: { maxEvents: PRELOAD_BATCH, maxBytes: 8 * 1024 * 1024, lingerMs: 1 },
      }),
    );
    let loaded = 0;
    const batches = Math.ceil(count / PRELOAD_BATCH);
    // Each client is its own batching lane: PRELOAD_CLIENTS batches are in flight at once.
    const result = await windowed(batches, PRELOAD_CLIENTS * 2, PRELOAD_MAX_MS, async (b) => {
      const size = Math.min(PRELOAD_BATCH, count - b * PRELOAD_BATCH);
      const events = Array.from({ length: size }, (_, i) => ({
        type: EVENT_TYPE,
        ...payloadAttributes(this.#payload),
        data: cloudEventData({ seq: b * PRELOAD_BATCH + i }),
      }));
      await clients[b % PRELOAD_CLIENTS]?.publish(topic, events);
      loaded += size;
      onProgress?.(loaded);
    });
    await Promise.all(clients.map((client) => client.close()));
    if (result.errors > 0 || loaded < count)
      throw new Error(
        `preload stopped at ${loaded}/${count} events: ${result.firstError ?? "time limit"}`,
      );
  }

  async subscribe(
    subscription: string,
    concurrency: number,
    onEvent: (fields: EventFields) => void,
  ): Promise<Closable> {
    const subscriber = this.#client.subscribe<EventFields>(
      subscription,
      (delivery) => onEvent(delivery.event.data as EventFields),
      { concurrency },
    );
    await subscriber.ready;
    return { close: () => subscriber.close({ timeoutMs: 5_000 }) };
  }

  /** The router's CPU, plus its nats-server's on the NATS engine (both are the system). */
  cpuMs(): number {
    const nats = this.#nats === undefined ? 0 : processCpuMs(this.#nats.servers[0]?.pid);
    return processCpuMs(this.#router.pid) + nats;
  }

  runQueueWaitMs(): number {
    return runQueueWaitMs(this.#router.pid);
  }

  async close(): Promise<void> {
    try {
      await this.#client.close({ timeoutMs: 5_000 });
    } finally {
      await this.#router.stop();
      await this.#nats?.close();
      await rm(this.#dataDir, { recursive: true, force: true });
    }
  }
}

/** One structured-mode POST per event over `connections` keep-alive connections. */
class PoolPublisher implements SinglePublisher {
  readonly #pool: Pool;
  readonly #headers: Record<string, string>;
  readonly #payload: Payload;

  constructor(url: string, connections: number, apiKey?: string, payload: Payload = "plain") {
    this.#payload = payload;
    this.#pool = new Pool(url, { connections, pipelining: 1 });
    this.#headers = {
      "content-type": "application/cloudevents+json",
      ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
    };
  }

  async publishOne(topic: string, fields: EventFields): Promise<void> {
    const body = JSON.stringify({
      specversion: "1.0",
      id: randomUUID(),
      source: EVENT_SOURCE,
      time: new Date().toISOString(),
      type: EVENT_TYPE,
      ...payloadAttributes(this.#payload),
      data: cloudEventData(fields),
    });
    const response = await this.#pool.request({
      method: "POST",
      path: `/v1/topics/${encodeURIComponent(topic)}/events`,
      headers: this.#headers,
      body,
    });
    const text = await response.body.text();
    if (response.statusCode !== 201)
      throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 200)}`);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
