/** The systems `bench:peers` measures side by side, each with the durability it promises. */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { natsServerBinary } from "../../test/support/nats-server.ts";
import { natsSubject } from "../subjects/nats.ts";
import { rabbitmqSubject, rabbitmqUnavailable } from "../subjects/rabbitmq.ts";
import { redisSubject, redisUnavailable } from "../subjects/redis.ts";
import type { BenchSubject, SubjectOptions } from "../subjects/subject.ts";
import { switchyardSubject } from "../subjects/switchyard.ts";
import type { DurabilityClass } from "./ratio.ts";

export interface Peer {
  readonly subject: BenchSubject;
  /** Printed on every row. */
  readonly durability: string;
  readonly durabilityClass: DurabilityClass;
  /** Why it cannot run on this machine, or undefined. */
  unavailable(): Promise<string | undefined>;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const JETSTREAM_R1 = "R1, fsync interval (JetStream 2.9 acks before fsync)";

/** A subject under another name: the report tells Switchyard's fsync modes apart by name. */
function named(subject: BenchSubject, name: string): BenchSubject {
  return {
    name,
    open: () => subject.open(),
    ...(subject.dispose ? { dispose: () => subject.dispose?.() ?? Promise.resolve() } : {}),
  };
}

async function switchyardUnavailable(): Promise<string | undefined> {
  return existsSync(join(ROOT, "dist/client/index.js"))
    ? undefined
    : "dist/ is missing: run npm run build";
}

async function natsUnavailable(): Promise<string | undefined> {
  return natsServerBinary() === null ? "nats-server binary not found" : undefined;
}

export function peers(dataRoot: string): Peer[] {
  const base: Omit<SubjectOptions, "fsync" | "engine"> = { dataRoot, profileDir: undefined };
  const switchyard = (engine: string, fsync: "always" | "interval") =>
    switchyardSubject({ ...base, engine, fsync });
  return [
    {
      subject: named(switchyard("sqlite", "always"), "switchyard/sqlite always"),
      durability: "fsync always",
      durabilityClass: "sync",
      unavailable: switchyardUnavailable,
    },
    {
      subject: named(switchyard("sqlite", "interval"), "switchyard/sqlite interval"),
      durability: "fsync interval",
      durabilityClass: "interval",
      unavailable: switchyardUnavailable,
    },
    {
      subject: switchyard("nats", "always"),
      durability: JETSTREAM_R1,
      durabilityClass: "interval",
      unavailable: async () => (await switchyardUnavailable()) ?? (await natsUnavailable()),
    },
    {
      subject: natsSubject(),
      durability: JETSTREAM_R1,
      durabilityClass: "interval",
      unavailable: natsUnavailable,
    },
    {
      subject: rabbitmqSubject("classic"),
      durability: "classic queue, publisher confirms, shared broker",
      durabilityClass: "sync",
      unavailable: rabbitmqUnavailable,
    },
    {
      subject: rabbitmqSubject("quorum"),
      durability: "quorum queue, publisher confirms, shared broker",
      durabilityClass: "sync",
      unavailable: rabbitmqUnavailable,
    },
    {
      subject: redisSubject("always", { ...base, engine: "redis", fsync: "always" }),
      durability: "AOF, appendfsync always",
      durabilityClass: "sync",
      unavailable: async () => redisUnavailable(),
    },
    {
      subject: redisSubject("everysec", { ...base, engine: "redis", fsync: "interval" }),
      durability: "AOF, appendfsync everysec",
      durabilityClass: "interval",
      unavailable: async () => redisUnavailable(),
    },
  ];
}
