/**
 * The Catalog on NATS: one KV bucket (`{prefix}_catalog`, history 1, the engine's replicas),
 * keys `{kind}.{key}`, values an envelope `{ v: value, e: expiresAt | null }`. A revision is
 * the bucket stream's sequence, so it is bucket-wide and never reused. Compare-and-set maps
 * onto KV's expected-last-subject-sequence (`create` / `update`); reads go to the bucket, so
 * a write on one node is read on every node at once; watches are served from this node's
 * copy of the bucket (catalog-mirror.ts). JetStream 2.9 KV has only a bucket-wide max age,
 * so expiry lives in the envelope: reads hide expired records, the mirror deletes them.
 */
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { CatalogFeed } from "../catalog-feed.js";
import {
  checkDelete,
  checkKey,
  checkKind,
  checkPrefix,
  checkPut,
  isLive,
  revisionConflict,
} from "../catalog-rules.js";
import type {
  Catalog,
  CatalogDeleteOptions,
  CatalogEntry,
  CatalogEvent,
  CatalogPutOptions,
  CatalogValue,
} from "../engine.js";
import { CatalogMirror, decodeEnvelope } from "./catalog-mirror.js";
import type { NatsContext } from "./context.js";
import { isJsError, JS_CODES, toSwitchyardError } from "./errors.js";
import type { Names } from "./names.js";

const WRONG_LAST_SEQUENCE_UNKNOWN = 10164;

function isConflict(error: unknown): boolean {
  return (
    isJsError(error, JS_CODES.wrongLastSequence) || isJsError(error, WRONG_LAST_SEQUENCE_UNKNOWN)
  );
}

/** Creates (or binds to) the catalog bucket. */
export function openCatalogBucket(nc: NatsConnection, names: Names, replicas: number): Promise<KV> {
  return new Kvm(nc).create(names.catalogBucket, { history: 1, replicas, storage: "file" });
}

export class NatsCatalog implements Catalog {
  readonly #ctx: NatsContext;
  readonly #kv: KV;
  readonly #feed = new CatalogFeed();
  readonly #mirror: CatalogMirror;

  /** `kv`: the bucket from `openCatalogBucket`. Starts this node's copy of the bucket. */
  constructor(ctx: NatsContext, kv: KV) {
    this.#ctx = ctx;
    this.#kv = kv;
    const stream = `KV_${ctx.names.catalogBucket}`;
    this.#mirror = new CatalogMirror(kv, ctx.jsm, stream, this.#feed);
    this.#mirror.start();
  }

  async #nats<T>(doing: string, work: () => Promise<T>): Promise<T> {
    this.#ctx.check();
    try {
      return await this.#ctx.track(work());
    } catch (error) {
      throw toSwitchyardError(error, doing);
    }
  }

  /** The record as stored, expired or not; null when absent or deleted. */
  async #load(kind: string, key: string): Promise<CatalogEntry | null> {
    const entry = await this.#kv.get(`${kind}.${key}`);
    if (entry === null || entry.operation !== "PUT") return null;
    const envelope = decodeEnvelope(entry);
    if (envelope === null) return null;
    return {
      key,
      value: envelope.v,
      revision: entry.revision,
      updatedAt: entry.created.getTime(),
      expiresAt: envelope.e,
    };
  }

  async #live(kind: string, key: string): Promise<CatalogEntry | null> {
    const entry = await this.#load(kind, key);
    return entry !== null && isLive(entry.expiresAt, Date.now()) ? entry : null;
  }

  async get(kind: string, key: string): Promise<CatalogEntry | null> {
    checkKey(kind, key);
    return this.#nats("reading the catalog", () => this.#live(kind, key));
  }

  async list(kind: string, prefix = ""): Promise<readonly CatalogEntry[]> {
    checkPrefix(kind, prefix);
    return this.#nats("listing the catalog", async () => {
      const start = `${kind}.${prefix}`;
      const keys: string[] = [];
      for await (const k of await this.#kv.keys(`${kind}.>`))
        if (k.startsWith(start)) keys.push(k.slice(kind.length + 1));
      const entries = await Promise.all(keys.map((k) => this.#live(kind, k)));
      return entries
        .filter((e): e is CatalogEntry => e !== null)
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  /**
   * The keys of `kind` starting with `prefix`, unsorted, without reading a value (so expired
   * records are included). A prefix ending in a dot is filtered by the server.
   */
  async keys(kind: string, prefix = ""): Promise<string[]> {
    checkPrefix(kind, prefix);
    return this.#nats("listing catalog keys", async () => {
      const filter = prefix.endsWith(".") ? `${kind}.${prefix}>` : `${kind}.>`;
      const start = `${kind}.${prefix}`;
      const keys: string[] = [];
      for await (const k of await this.#kv.keys(filter))
        if (k.startsWith(start)) keys.push(k.slice(kind.length + 1));
      return keys;
    });
  }

  async put(
    kind: string,
    key: string,
    value: CatalogValue,
    options: CatalogPutOptions = {},
  ): Promise<number> {
    const text = checkPut(kind, key, value, options);
    const { expectedRevision, ttlMs } = options;
    return this.#nats("writing the catalog", async () => {
      const expiresAt = ttlMs === undefined ? null : Date.now() + ttlMs;
      const data = `{"v":${text},"e":${expiresAt === null ? "null" : expiresAt}}`;
      const kvKey = `${kind}.${key}`;
      if (expectedRevision === undefined) return this.#kv.put(kvKey, data);
      try {
        if (expectedRevision > 0) {
          const current = await this.#live(kind, key);
          if (current?.revision !== expectedRevision)
            throw revisionConflict(kind, key, expectedRevision);
          return await this.#kv.update(kvKey, data, expectedRevision);
        }
        try {
          return await this.#kv.create(kvKey, data);
        } catch (error) {
          if (!isConflict(error)) throw error;
          // It exists: an expired record still counts as absent.
          const stored = await this.#load(kind, key);
          if (stored === null || isLive(stored.expiresAt, Date.now())) throw error;
          return await this.#kv.update(kvKey, data, stored.revision);
        }
      } catch (error) {
        if (isConflict(error)) throw revisionConflict(kind, key, expectedRevision);
        throw error;
      }
    });
  }

  async delete(kind: string, key: string, options: CatalogDeleteOptions = {}): Promise<boolean> {
    checkDelete(kind, key, options);
    const expected = options.expectedRevision;
    return this.#nats("deleting from the catalog", async () => {
      const current = await this.#live(kind, key);
      if (current === null) return false;
      if (expected !== undefined && current.revision !== expected)
        throw revisionConflict(kind, key, expected);
      try {
        await this.#kv.delete(`${kind}.${key}`, { previousSeq: current.revision });
        return true;
      } catch (error) {
        if (!isConflict(error)) throw error;
        if (expected !== undefined) throw revisionConflict(kind, key, expected);
        // Rewritten meanwhile: an unconditional delete removes whatever is there now.
        return this.delete(kind, key);
      }
    });
  }

  async *watch(kind: string, signal: AbortSignal): AsyncIterable<CatalogEvent> {
    checkKind(kind);
    if (this.#feed.closed) return;
    const until = AbortSignal.any([signal, this.#ctx.closing]);
    // The first view waits for the copy to catch up: a watch never starts from a stale one.
    const stopped = new Promise<void>((resolve) => {
      until.addEventListener("abort", () => resolve(), { once: true });
    });
    await Promise.race([this.#mirror.loaded, stopped]);
    yield* this.#feed.watch(kind, until, () => this.#mirror.snapshot(kind));
  }

  /** Ends every watch and stops the mirror; the engine closes the connection after. */
  close(): void {
    this.#mirror.close();
    this.#feed.close();
  }
}
