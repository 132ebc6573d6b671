/**
 * Configuration and shared state in JetStream KV buckets, so every node sees the same:
 * topics, subscriptions (config and seek epoch), which node owns each subscription, and
 * subscription counters. Values are JSON; writes that race use the entry's revision.
 */

import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { SubscriptionConfig, TopicConfig } from "../../core/config.js";
import { isJsError, JS_CODES } from "./errors.js";
import type { IndexBuild } from "./flow-index.js";
import { escapeName, type Names } from "./names.js";

export interface Versioned<T> {
  readonly value: T;
  readonly revision: number;
}

/** A KV bucket of JSON values. Conflicting writes resolve to null instead of throwing. */
export class JsonBucket<T> {
  readonly kv: KV;

  constructor(kv: KV) {
    this.kv = kv;
  }

  async get(key: string): Promise<Versioned<T> | null> {
    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== "PUT") return null;
    return { value: entry.json<T>(), revision: entry.revision };
  }

  /** Creates the key; null when it already exists. */
  async create(key: string, value: T): Promise<number | null> {
    return conflictAsNull(() => this.kv.create(key, JSON.stringify(value)));
  }

  /** Replaces the key at `revision`; null when someone wrote it since. */
  async update(key: string, value: T, revision: number): Promise<number | null> {
    return conflictAsNull(() => this.kv.update(key, JSON.stringify(value), revision));
  }

  put(key: string, value: T): Promise<number> {
    return this.kv.put(key, JSON.stringify(value));
  }

  async delete(key: string, revision?: number): Promise<boolean> {
    const done = await conflictAsNull(async () => {
      await this.kv.delete(key, revision === undefined ? {} : { previousSeq: revision });
      return 1;
    });
    return done !== null;
  }

  async keys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) keys.push(key);
    return keys;
  }

  async values(): Promise<T[]> {
    const keys = await this.keys();
    const entries = await Promise.all(keys.map((k) => this.get(k)));
    return entries.flatMap((e) => (e === null ? [] : [e.value]));
  }
}

async function conflictAsNull(write: () => Promise<number>): Promise<number | null> {
  try {
    return await write();
  } catch (error) {
    if (isJsError(error, JS_CODES.wrongLastSequence)) return null;
    throw error;
  }
}

/** A subscription as stored: its config, and the epoch its consumers belong to. */
export interface SubscriptionRecord {
  readonly config: SubscriptionConfig;
  /** Starts at 1; every seek increments it and recreates the consumers. */
  readonly epoch: number;
  /** The position the current epoch started at. */
  readonly start: number;
}

export interface Counters {
  readonly delivered: number;
  readonly acked: number;
  readonly deadLettered: number;
}

export class Metadata {
  readonly topics: JsonBucket<TopicConfig>;
  readonly subscriptions: JsonBucket<SubscriptionRecord>;
  /** Subscription name → id of the node that owns its deliveries. */
  readonly owners: JsonBucket<string>;
  readonly counters: JsonBucket<Counters>;
  /** Topic → the backfill mark of an index still being built (flow-index.ts). */
  readonly indexBuilds: JsonBucket<IndexBuild>;

  private constructor(buckets: readonly [KV, KV, KV, KV, KV]) {
    this.topics = new JsonBucket(buckets[0]);
    this.subscriptions = new JsonBucket(buckets[1]);
    this.owners = new JsonBucket(buckets[2]);
    this.counters = new JsonBucket(buckets[3]);
    this.indexBuilds = new JsonBucket(buckets[4]);
  }

  static async open(nc: NatsConnection, names: Names, replicas: number): Promise<Metadata> {
    const kvm = new Kvm(nc);
    const options = { history: 1, replicas, storage: "file" as const };
    const open = (name: string) => kvm.create(name, options);
    const buckets = await Promise.all([
      open(names.topicsBucket),
      open(names.subscriptionsBucket),
      open(names.ownersBucket),
      open(names.countersBucket),
      open(names.indexBuildsBucket),
    ]);
    return new Metadata([buckets[0], buckets[1], buckets[2], buckets[3], buckets[4]]);
  }
}

export function topicKey(topic: string): string {
  return escapeName(topic);
}
