/**
 * RabbitMQ as a benchmark subject (`bench:peers`): classic or quorum durable queues,
 * persistent messages, publishes settled by publisher confirms (amqplib ConfirmChannel) — a
 * confirm for a persistent message on a durable queue comes after the broker wrote it to
 * disk. It runs on the machine's shared broker (127.0.0.1:5672, guest), in a vhost of its
 * own created with `rabbitmqctl` on first use and deleted by `dispose()`; other work on the
 * broker shares its CPU, so the rows say "shared broker".
 *
 * A topic is a fanout exchange; the topic's first subscription is a queue bound when the
 * topic is created (so it holds everything published, like a log), later subscriptions get
 * queues of their own bound at creation. RabbitMQ queues do not replay: a subscription
 * created after events were published would see none of them, so that is refused.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { promisify } from "node:util";
import amqp from "amqplib";
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

export type RabbitQueueType = "classic" | "quorum";

const RABBITMQCTL = "/usr/sbin/rabbitmqctl";
const HOST = "127.0.0.1";
/** `BENCH_RABBITMQ_PORT`: another broker, or (in the bench's own tests) none at all. */
const PORT = Number(process.env.BENCH_RABBITMQ_PORT ?? 5672);
const CTL_TIMEOUT_MS = 60_000;
const PRELOAD_WINDOW = 5_000;
const PRELOAD_MAX_MS = 10 * 60_000;

type ChannelModel = Awaited<ReturnType<typeof amqp.connect>>;
type ConfirmChannel = Awaited<ReturnType<ChannelModel["createConfirmChannel"]>>;
type Channel = Awaited<ReturnType<ChannelModel["createChannel"]>>;

async function rabbitmqctl(...args: string[]): Promise<void> {
  await promisify(execFile)(RABBITMQCTL, ["-q", ...args], { timeout: CTL_TIMEOUT_MS });
}

/** Why RabbitMQ cannot be measured here, or undefined when it can. */
export async function rabbitmqUnavailable(): Promise<string | undefined> {
  if (!existsSync(RABBITMQCTL)) return `${RABBITMQCTL} not found`;
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connectTcp({ host: HOST, port: PORT, timeout: 2_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
  return reachable ? undefined : `no AMQP broker listening on ${HOST}:${PORT}`;
}

/** The broker's Erlang VM, for its CPU figures (the broker is shared: indicative only). */
function beamPid(): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "beam.smp") return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

export function rabbitmqSubject(queueType: RabbitQueueType): BenchSubject {
  const vhost = `switchyard-bench-${queueType}-${process.pid}-${Date.now()}`;
  let created: Promise<void> | undefined;
  return {
    name: `rabbitmq/${queueType}`,
    async open() {
      created ??= (async () => {
        await rabbitmqctl("add_vhost", vhost);
        await rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
      })();
      await created;
      const url = `amqp://guest:guest@${HOST}:${PORT}/${encodeURIComponent(vhost)}`;
      const connection = await amqp.connect(url);
      // Without listeners an 'error' event would end the whole run; the failed operation's
      // promise rejects and fails its scenario instead.
      connection.on("error", () => {});
      const confirm = await connection.createConfirmChannel();
      confirm.on("error", () => {});
      return new RabbitSession(queueType, connection, confirm, beamPid());
    },
    async dispose() {
      if (created === undefined) return;
      const pending = created;
      created = undefined;
      await pending.catch(() => {});
      await rabbitmqctl("delete_vhost", vhost);
    },
  };
}

interface TopicState {
  /** The queue bound at topic creation; the first subscription takes it. */
  logQueue: string | undefined;
  published: number;
}

class RabbitSession implements SubjectSession {
  readonly #queueType: RabbitQueueType;
  readonly #connection: ChannelModel;
  readonly #confirm: ConfirmChannel;
  readonly #pid: number | undefined;
  readonly #topics = new Map<string, TopicState>();
  /** Subscription → its queue. */
  readonly #queues = new Map<string, string>();
  readonly #channels = new Set<Channel>();

  constructor(
    queueType: RabbitQueueType,
    connection: ChannelModel,
    confirm: ConfirmChannel,
    pid: number | undefined,
  ) {
    this.#queueType = queueType;
    this.#connection = connection;
    this.#confirm = confirm;
    this.#pid = pid;
  }

  async #queueFor(topic: string, queue: string): Promise<void> {
    await this.#confirm.assertQueue(queue, {
      durable: true,
      arguments: { "x-queue-type": this.#queueType },
    });
    await this.#confirm.bindQueue(queue, topic, "");
  }

  async createTopic(topic: string): Promise<void> {
    await this.#confirm.assertExchange(topic, "fanout", { durable: true });
    const logQueue = `${topic}.log`;
    await this.#queueFor(topic, logQueue);
    this.#topics.set(topic, { logQueue, published: 0 });
  }

  async createSubscription(topic: string, subscription: string): Promise<void> {
    const state = this.#topics.get(topic);
    if (state === undefined) throw new Error(`no topic ${topic}`);
    if (state.logQueue !== undefined) {
      this.#queues.set(subscription, state.logQueue);
      state.logQueue = undefined;
      return;
    }
    if (state.published > 0)
      throw new Error("RabbitMQ queues do not replay: a later subscription sees no earlier event");
    await this.#queueFor(topic, subscription);
    this.#queues.set(subscription, subscription);
  }

  /** Persistent message; resolves on the broker's confirm. */
  publish(topic: string, fields: EventFields): Promise<void> {
    const { id, body } = structuredEvent(fields);
    const state = this.#topics.get(topic);
    if (state !== undefined) state.published++;
    return new Promise((resolve, reject) => {
      this.#confirm.publish(
        topic,
        "",
        Buffer.from(body),
        { persistent: true, messageId: id, contentType: "application/cloudevents+json" },
        (error: unknown) =>
          error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
      );
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
    const queue = this.#queues.get(subscription);
    if (queue === undefined) throw new Error(`no subscription ${subscription}`);
    const channel = await this.#connection.createChannel();
    channel.on("error", () => {});
    this.#channels.add(channel);
    await channel.prefetch(concurrency);
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (message === null) return; // the broker cancelled the consumer
      const event = JSON.parse(message.content.toString("utf8")) as { data: EventFields };
      onEvent(event.data);
      channel.ack(message);
    });
    return {
      close: async () => {
        await channel.cancel(consumerTag);
        await channel.close();
        this.#channels.delete(channel);
      },
    };
  }

  cpuMs(): number {
    return processCpuMs(this.#pid);
  }

  runQueueWaitMs(): number {
    return runQueueWaitMs(this.#pid);
  }

  /** Deletes what the session created, so the next session starts on an empty vhost. */
  async close(): Promise<void> {
    try {
      for (const channel of this.#channels) await channel.close().catch(() => {});
      for (const queue of new Set([
        ...this.#queues.values(),
        ...[...this.#topics.values()].flatMap((t) => (t.logQueue ? [t.logQueue] : [])),
      ]))
        await this.#confirm.deleteQueue(queue);
      for (const topic of this.#topics.keys()) await this.#confirm.deleteExchange(topic);
    } finally {
      await this.#connection.close();
    }
  }
}
