/**
 * Raw JetStream as a benchmark subject (`--compare nats`): the same NATS client the engine
 * uses, in its fastest form — core `publish` with the PubAcks read on one inbox of our own
 * (`js.publish` builds an Error with a stack trace per call) — against a nats-server of its
 * own (R1 file stream, the JetStream 2.9 default of syncing to disk on an interval).
 * Events are the same 256-byte structured CloudEvents, each with a `Nats-Msg-Id`, so the
 * server does the same dedupe work as under Switchyard. Consumers are durable pull
 * consumers with explicit (not double) acks.
 */
import { randomUUID } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { type NatsServers, startNatsServer } from "../../test/support/nats-server.ts";
import { processCpuMs, runQueueWaitMs } from "../cpu.ts";
import { preloadByPublishing } from "../load.ts";
import { structuredEvent } from "../payload.ts";
import type {
  BenchSubject,
  Closable,
  EventFields,
  SinglePublisher,
  SubjectSession,
} from "./subject.ts";

const PRELOAD_WINDOW = 10_000;
const PRELOAD_MAX_MS = 30 * 60_000;
const ACK_TIMEOUT_MS = 30_000;

export function natsSubject(): BenchSubject {
  return {
    name: "jetstream (raw)",
    async open() {
      const servers = await startNatsServer();
      const nc = await connect({ servers: servers.url });
      return new NatsSession(servers, nc);
    },
  };
}

const streamOf = (topic: string) => topic.replaceAll(/[^A-Za-z0-9_-]/g, "_");

class NatsSession implements SubjectSession {
  readonly #servers: NatsServers;
  readonly #nc: NatsConnection;
  readonly #pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  readonly #inbox: string;
  #next = 0;

  constructor(servers: NatsServers, nc: NatsConnection) {
    this.#servers = servers;
    this.#nc = nc;
    this.#inbox = `_BENCH.${randomUUID().replaceAll("-", "")}`;
    nc.subscribe(`${this.#inbox}.*`, { callback: (_error, msg) => this.#onAck(msg) });
  }

  #onAck(msg: Msg): void {
    const token = msg.subject.slice(this.#inbox.length + 1);
    const waiter = this.#pending.get(token);
    if (waiter === undefined) return;
    this.#pending.delete(token);
    const text = msg.string();
    if (msg.headers?.code === 503 || text.includes('"error"'))
      waiter.reject(new Error(`JetStream refused: ${text || msg.headers?.code}`));
    else waiter.resolve();
  }

  async createTopic(topic: string): Promise<void> {
    const jsm = await jetstreamManager(this.#nc);
    await jsm.streams.add({
      name: streamOf(topic),
      subjects: [`bench.${streamOf(topic)}`],
      storage: "file",
      num_replicas: 1,
    } as Parameters<typeof jsm.streams.add>[0]);
  }

  async createSubscription(topic: string, subscription: string): Promise<void> {
    const jsm = await jetstreamManager(this.#nc);
    await jsm.consumers.add(streamOf(topic), {
      durable_name: streamOf(subscription),
      ack_policy: "explicit",
      deliver_policy: "all",
      max_ack_pending: -1,
    } as Parameters<typeof jsm.consumers.add>[1]);
  }

  /** Core publish; resolves when the PubAck arrives on our inbox. */
  publish(topic: string, fields: EventFields): Promise<void> {
    const { id, body } = structuredEvent(fields);
    const token = (this.#next++).toString(36);
    const h = headers();
    h.set("Nats-Msg-Id", id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(new Error("no PubAck"));
      }, ACK_TIMEOUT_MS);
      this.#pending.set(token, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#nc.publish(`bench.${streamOf(topic)}`, body, {
        reply: `${this.#inbox}.${token}`,
        headers: h,
      });
    });
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

  async subscribe(
    subscription: string,
    concurrency: number,
    onEvent: (fields: EventFields) => void,
  ): Promise<Closable> {
    const js = jetstream(this.#nc);
    const stream = await this.#streamOfConsumer(subscription);
    const consumer = await js.consumers.get(stream, streamOf(subscription));
    const messages = await consumer.consume({ max_messages: concurrency });
    const done = (async () => {
      for await (const m of messages) {
        const event = m.json<{ data: EventFields }>();
        onEvent(event.data);
        m.ack();
      }
    })();
    return {
      close: async () => {
        messages.stop();
        await done;
      },
    };
  }

  async #streamOfConsumer(subscription: string): Promise<string> {
    const jsm = await jetstreamManager(this.#nc);
    for await (const stream of jsm.streams.list()) {
      const found = await jsm.consumers
        .info(stream.config.name, streamOf(subscription))
        .catch(() => null);
      if (found !== null) return stream.config.name;
    }
    throw new Error(`no consumer ${subscription}`);
  }

  /** The nats-server's CPU: the system under test (the client runs in the bench process). */
  cpuMs(): number {
    return processCpuMs(this.#servers.servers[0]?.pid);
  }

  runQueueWaitMs(): number {
    return runQueueWaitMs(this.#servers.servers[0]?.pid);
  }

  async close(): Promise<void> {
    await this.#nc.close();
    await this.#servers.close();
  }
}
