/**
 * One nats-server and a NATS engine on it for a `describe` block, with a raw connection for
 * what a test does behind the engine's back (deleting a message, acking at JetStream):
 * started in `beforeAll`, stopped in `afterAll`. Read the fields inside tests, after start.
 */
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";
import { NatsEngine, type NatsEngineOptions } from "../../src/engine/nats/index.js";
import { Names } from "../../src/engine/nats/names.js";
import { type NatsServers, startNatsServer } from "./nats-server.js";

export interface OneServerEngine {
  readonly engine: NatsEngine;
  readonly raw: NatsConnection;
  readonly url: string;
  /** The engine's subject prefix (one per file: `tag` and random hex). */
  readonly prefix: string;
  readonly names: Names;
}

/** `options`: the engine's, beside the server and prefix this opens it with. */
export function oneServerEngine(
  tag: string,
  options: Omit<NatsEngineOptions, "servers" | "prefix"> = {},
): OneServerEngine {
  const prefix = `${tag}${randomBytes(3).toString("hex")}`;
  let servers: NatsServers | undefined;
  let engine: NatsEngine | undefined;
  let raw: NatsConnection | undefined;
  beforeAll(async () => {
    servers = await startNatsServer();
    engine = await NatsEngine.open({ timeoutMs: 5_000, ...options, servers: servers.url, prefix });
    raw = await connect({ servers: servers.url });
  });
  afterAll(async () => {
    await raw?.close();
    await engine?.close();
    await servers?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the NATS server is not started yet");
    return value;
  };
  return {
    get engine() {
      return started(engine);
    },
    get raw() {
      return started(raw);
    },
    get url() {
      return started(servers).url;
    },
    prefix,
    names: new Names(prefix),
  };
}
