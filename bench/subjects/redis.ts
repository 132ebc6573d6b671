/**
 * Redis Streams as a benchmark subject (`bench:peers`): XADD to publish, consumer groups
 * (XREADGROUP + XACK) to consume, on a `redis-server` of its own per session (free port, temp
 * dir, AOF on) with `appendfsync always` (the reply to a write leaves after its fsync) or
 * `everysec` (fsync once a second: up to a second of acknowledged writes can be lost). The
 * client auto-pipelines, the fastest form ioredis has for many concurrent commands.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { Redis } from "ioredis";
import { processCpuMs, runQueueWaitMs } from "../cpu.ts";
import { preloadByPublishing } from "../load.ts";
import { structuredEvent } from "../payload.ts";
import type {
  BenchSubject,
  Closable,
  EventFields,
  SinglePublisher,
  SubjectOptions,
  SubjectSession,
} from "./subject.ts";

export type RedisFsync = "always" | "everysec";

const REDIS_SERVER = "/usr/bin/redis-server";
const HOST = "127.0.0.1";
const START_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const PRELOAD_WINDOW = 5_000;
const PRELOAD_MAX_MS = 10 * 60_000;
const BLOCK_MS = 100;

/** Servers still running: killed by PID if the bench exits without closing them (a crash). */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Why Redis cannot be measured here, or undefined when it can. */
export function redisUnavailable(): string | undefined {
  return existsSync(REDIS_SERVER) ? undefined : `${REDIS_SERVER} not found`;
}

/** A port free right now (bound by the OS, then released): redis-server has no port 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface RedisProcess {
  readonly child: ChildProcess;
  readonly port: number;
}

/** Starts redis-server on a free port, retrying with another port if it was taken meanwhile. */
async function startRedis(dir: string, fsync: RedisFsync): Promise<RedisProcess> {
  let lastOutput = "";
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const child = spawn(
      REDIS_SERVER,
      [
        "--port",
        String(port),
        "--bind",
        HOST,
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        fsync,
        "--save",
        "",
        "--daemonize",
        "no",
        "--protected-mode",
        "no",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    running.add(child);
    child.once("exit", () => running.delete(child));
    const outcome = await new Promise<"ready" | "in-use" | "failed">((resolve) => {
      let output = "";
      const timer = setTimeout(() => resolve("failed"), READY_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString("utf8");
        lastOutput = output;
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve("ready");
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve(/address already in use/i.test(output) ? "in-use" : "failed");
      });
    });
    if (outcome === "ready") {
      // Keep draining its log so a full pipe never blocks it.
      child.stdout?.resume();
      child.stderr?.resume();
      return { child, port };
    }
    await stopRedis(child);
    if (outcome === "failed") break;
  }
  throw new Error(`redis-server did not start:\n${lastOutput.slice(-2_000)}`);
}

/** Stops the server by its PID (SIGTERM, then SIGKILL) and waits for it to exit. */
async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

export function redisSubject(fsync: RedisFsync, options: SubjectOptions): BenchSubject {
  return {
    name: `redis-streams/${fsync}`,
    async open() {
      const dir = await mkdtemp(join(options.dataRoot, "redis-bench-"));
      try {
        const server = await startRedis(dir, fsync);
        const client = new Redis({ host: HOST, port: server.port, enableAutoPipelining: true });
        await client.ping();
        return new RedisSession(server, dir, client);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    },
  };
}

const streamKey = (topic: string): string => `stream:${topic}`;

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

class RedisSession implements SubjectSession {
  readonly #server: RedisProcess;
  readonly #dir: string;
  readonly #client: Redis;
  /** Subscription → its topic's stream. */
  readonly #streams = new Map<string, string>();
  readonly #readers = new Set<Redis>();

  constructor(server: RedisProcess, dir: string, client: Redis) {
    this.#server = server;
    this.#dir = dir;
    this.#client = client;
  }

  /** Streams come into being on the first XADD; an empty one now, for consumer groups. */
  async createTopic(topic: string): Promise<void> {
    await this.#client.xgroup("CREATE", streamKey(topic), "_init", "$", "MKSTREAM");
    await this.#client.xgroup("DESTROY", streamKey(topic), "_init");
  }

  async createSubscription(topic: string, subscription: string): Promise<void> {
    // The consumer group is named after the subscription; id "0": from the first entry.
    await this.#client.xgroup("CREATE", streamKey(topic), subscription, "0", "MKSTREAM");
    this.#streams.set(subscription, streamKey(topic));
  }

  async publish(topic: string, fields: EventFields): Promise<void> {
    const { body } = structuredEvent(fields);
    await this.#client.xadd(streamKey(topic), "*", "e", body);
  }

  singlePublisher(): SinglePublisher {
    return { publishOne: (topic, fields) => this.publish(topic, fields), close: async () => {} };
  }

  preload(topic: string, count: number, onProgress?: (n: number) => void): Promise<void> {
    return preloadByPublishing(
      (seq) => this.publish(topic, { seq }),
      count,
      { window: PRELOAD_WINDOW, maxMs: PRELOAD_MAX_MS },
      onProgress,
    );
  }

  /**
   * One connection per subscriber (XREADGROUP BLOCK holds its connection); reads up to
   * `concurrency` entries, hands them over, acks them in one XACK without waiting for it.
   */
  async subscribe(
    subscription: string,
    concurrency: number,
    onEvent: (fields: EventFields) => void,
  ): Promise<Closable> {
    const stream = this.#streams.get(subscription);
    if (stream === undefined) throw new Error(`no subscription ${subscription}`);
    const reader = new Redis({ host: HOST, port: this.#server.port });
    const acker = this.#client;
    this.#readers.add(reader);
    let stopped = false;
    // Kept until close(), so a broken reader fails its scenario instead of the process.
    let failure: unknown;
    const loop = (async () => {
      while (!stopped) {
        const reply = (await reader
          .xreadgroup(
            "GROUP",
            subscription,
            "bench",
            "COUNT",
            concurrency,
            "BLOCK",
            BLOCK_MS,
            "STREAMS",
            stream,
            ">",
          )
          .catch((error: unknown) => {
            if (stopped) return null;
            throw error;
          })) as StreamReply;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) continue;
        const ids: string[] = [];
        for (const [id, fields] of entries) {
          const event = JSON.parse(fields[1] ?? "{}") as { data: EventFields };
          onEvent(event.data);
          ids.push(id);
        }
        void acker.xack(stream, subscription, ...ids).catch(() => {});
      }
    })().catch((error: unknown) => {
      failure = error;
    });
    return {
      close: async () => {
        stopped = true;
        await loop;
        reader.disconnect();
        this.#readers.delete(reader);
        if (failure !== undefined) throw failure;
      },
    };
  }

  cpuMs(): number {
    return processCpuMs(this.#server.child.pid);
  }

  runQueueWaitMs(): number {
    return runQueueWaitMs(this.#server.child.pid);
  }

  async close(): Promise<void> {
    try {
      for (const reader of this.#readers) reader.disconnect();
      await this.#client.quit().catch(() => {});
    } finally {
      await stopRedis(this.#server.child);
      await rm(this.#dir, { recursive: true, force: true });
    }
  }
}
