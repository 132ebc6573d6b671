/**
 * The router the fuzzer attacks: a real SQLite engine, broker and HTTP server in this
 * process (so the test can walk Fastify's route table and read the store directly), on a
 * free 127.0.0.1 port, seeded with real resources so fuzzed requests reach real handlers:
 * a topic with events and a pull subscription holding leases and dead letters, and a push
 * subscription pointing at a local sink.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "../../src/broker/broker.js";
import { KeyStore } from "../../src/broker/keys.js";
import { SecretKeyRing } from "../../src/core/secret-box.js";
import { createEngine } from "../../src/engine/create-engine.js";
import type { Engine } from "../../src/engine/engine.js";
import { createServer, type RouteInfo } from "../../src/server/server.js";
import { type HttpSink, startSink } from "../support/http-sink.js";

/** The seeded type's version 1; the route generators propose variations of it. */
export const FUZZ_SCHEMA = {
  type: "object",
  properties: { id: { type: "string" }, total: { type: "number" } },
  required: ["id"],
  additionalProperties: false,
};

/** Small, so "larger than the limit" bodies are cheap to generate. */
export const FUZZ_MAX_BODY_BYTES = 256 * 1024;

/** The names and ids of the seeded resources the generators aim at. */
export interface Fixtures {
  readonly topics: readonly string[];
  /** The fixture topics that are not router-owned. */
  readonly ownTopics: readonly string[];
  readonly subscriptions: readonly string[];
  readonly pullSubscription: string;
  readonly pushSubscription: string;
  /** AckIds really issued by the router (some still leased, some settled since). */
  readonly ackIds: readonly string[];
  /** Ids of events that exist in the pull topic. */
  readonly eventIds: readonly string[];
  readonly redriveId: string;
  readonly sinkUrl: string;
  /** An event type with one registered schema version. */
  readonly schemaType: string;
}

export interface FuzzRouter {
  readonly port: number;
  readonly url: string;
  readonly routes: readonly RouteInfo[];
  readonly engine: Engine;
  readonly fixtures: Fixtures;
  /**
   * Puts the seeded resources back as they were configured and removes everything else
   * (nothing to do when every topic and subscription config is still the seeded one).
   */
  restore(): Promise<void>;
  close(): Promise<void>;
}

const TOPIC = "fz-orders";
const PUSH_TOPIC = "fz-hooks";
const PULL = "fz-pull";
const PUSH = "fz-push";
const SCHEMA_TYPE = "fz.order.placed";
/** Long leases: a lease must not expire (a state change) between two snapshots. */
const ACK_TIMEOUT_MS = 3_600_000;

function pullConfig(): Record<string, unknown> {
  return { topic: TOPIC, start: "earliest", ackTimeoutMs: ACK_TIMEOUT_MS, maxAttempts: 3 };
}

function pushConfig(sinkUrl: string): Record<string, unknown> {
  return {
    topic: PUSH_TOPIC,
    start: "latest",
    ackTimeoutMs: ACK_TIMEOUT_MS,
    // A fuzzed event the sink refuses (a 4xx) would otherwise be retried with backoff for a
    // quarter of an hour, and the push subscription would never read idle between inputs.
    push: {
      url: sinkUrl,
      timeoutMs: 5_000,
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      onClientError: "dead-letter",
    },
  };
}

function cloudEvent(i: number): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: `fz-ev-${i}`,
    source: "/fuzz",
    type: "fuzz.seeded",
    partitionkey: `k${i % 3}`,
    data: { n: i, total: i * 10 },
  };
}

/**
 * The seed redrive appends its `finished` audit event after the job reads `done`: wait for
 * it, so no background write lands between a request's before and after.
 */
async function redriveSettled(broker: Broker): Promise<void> {
  const deadline = Date.now() + 10_000;
  const finished = async () => {
    const page = await broker.read("switchyard.audit", { offset: 1 }, 1_000);
    return page.records.some((r) => r.body.includes('"type":"switchyard.redrive.finished"'));
  };
  while (!(await finished())) {
    if (Date.now() > deadline) throw new Error("the seed redrive did not finish in 10 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function seed(broker: Broker, sink: HttpSink): Promise<Fixtures> {
  await broker.putTopic(TOPIC, {});
  await broker.putTopic(PUSH_TOPIC, {});
  await broker.putSubscription(PULL, pullConfig());
  await broker.putSubscription(PUSH, pushConfig(sink.url));
  const events = Array.from({ length: 30 }, (_, i) => cloudEvent(i));
  await broker.publish(TOPIC, events, true);
  const deliveries = await broker.pull(PULL, { max: 12, waitMs: 0 });
  const ackIds = deliveries.map((d) => d.ackId);
  // Dead letters for redrive to find, and one settled ackId (answers "unknown" from now on).
  await broker.settle(PULL, "reject", { ackIds: ackIds.slice(0, 3), reason: "fuzz seed" });
  await broker.settle(PULL, "ack", { ackIds: ackIds.slice(3, 4) });
  const started = await broker.redrive(PULL, { ids: ["fz-ev-0"] });
  if (started.redrive === null) throw new Error("the seed redrive did not start");
  await redriveSettled(broker);
  await broker.schemas.register(SCHEMA_TYPE, { schema: FUZZ_SCHEMA });
  const listed = await broker.listTopics();
  return {
    topics: listed.map((t) => t.name),
    // Dead-letter topics come back with their subscriptions: a `putTopic` would make them
    // ordinary topics, which a subscription then refuses as its `deadLetterTopic`.
    ownTopics: listed.filter((t) => t.owner !== "router").map((t) => t.name),
    subscriptions: [PULL, PUSH],
    pullSubscription: PULL,
    pushSubscription: PUSH,
    ackIds,
    eventIds: events.map((e) => String(e.id)),
    redriveId: started.redrive,
    sinkUrl: sink.url,
    schemaType: SCHEMA_TYPE,
  };
}

export async function startFuzzRouter(): Promise<FuzzRouter> {
  const dataDir = mkdtempSync(join(tmpdir(), "switchyard-fuzz-"));
  const engine = await createEngine({ kind: "sqlite", dataDir, fsync: "interval" });
  // Keeps nothing (a long run would hold every request) and takes headers as large as the
  // router may send: a binary-mode event carries its attributes as ce-* headers.
  const sink = await startSink(undefined, undefined, false, { maxHeaderSize: 4 * 1024 * 1024 });
  const broker = new Broker({
    engine,
    secretKeys: SecretKeyRing.generate(),
    push: { allowPrivateEndpoints: true, circuit: {} },
  });
  const server = await createServer({
    broker,
    keys: new KeyStore(engine.catalog),
    logLevel: "silent",
    maxBodyBytes: FUZZ_MAX_BODY_BYTES,
  });
  const port = await server.listen("127.0.0.1", 0);
  await broker.startDispatchers();
  await broker.schemas.start();
  const fixtures = await seed(broker, sink);
  const configs = async () =>
    JSON.stringify([await engine.log.listTopics(), await engine.cursors.listSubscriptions()]);
  const seeded = await configs();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    routes: server.routes,
    engine,
    fixtures,
    async restore() {
      if ((await configs()) === seeded) return;
      for (const sub of await engine.cursors.listSubscriptions())
        if (!fixtures.subscriptions.includes(sub.name)) await broker.deleteSubscription(sub.name);
      for (const topic of await engine.log.listTopics())
        if (!fixtures.topics.includes(topic.name) && !topic.name.startsWith("switchyard."))
          await broker.deleteTopic(topic.name, true);
      for (const name of fixtures.ownTopics) await broker.putTopic(name, {});
      await broker.putSubscription(PULL, pullConfig());
      await broker.putSubscription(PUSH, pushConfig(sink.url));
      await broker.resume(PUSH);
    },
    async close() {
      await server.close();
      await broker.close();
      await engine.close();
      await sink.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
