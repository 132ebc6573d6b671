/**
 * This node's copy of the catalog bucket, kept by one KV watch of the whole bucket: it
 * feeds the node's Catalog watches, tells them when they are current, and purges expired
 * records.
 *
 * Current: every `CATALOG_SYNC_MS` a probe asks JetStream for the bucket's last sequence L
 * at time t; once the copy has applied revision L, every change committed before t has been
 * handed to the watches, and they get `synced(t)`. While NATS is unreachable or the watch
 * lags, no probe completes, so no marker comes and callers see their view age.
 *
 * Expired records: every node deletes the records it sees expired, each delete conditional
 * on the revision it saw, so racing nodes (or a fresh write) never lose data to a purge.
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { CatalogFeed } from "../catalog-feed.js";
import { isLive } from "../catalog-rules.js";
import { CATALOG_SYNC_MS, type CatalogChange, type CatalogEvent } from "../engine.js";

const PURGE_MS = 1_000;
/** Probes answered but not yet reached by the copy; older ones are dropped beyond this. */
const MAX_TARGETS = 16;

/** A record as the bucket holds it: the value and its expiry. */
export interface Envelope {
  readonly v: Record<string, unknown>;
  readonly e: number | null;
}

export function decodeEnvelope(entry: { json<T>(): T }): Envelope | null {
  try {
    const parsed = entry.json<Envelope>();
    if (typeof parsed?.v !== "object" || parsed.v === null) return null;
    return { v: parsed.v, e: typeof parsed.e === "number" ? parsed.e : null };
  } catch {
    return null; // not written by a Catalog: ignore it
  }
}

export class CatalogMirror {
  readonly #kv: KV;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #feed: CatalogFeed;
  readonly #entries = new Map<string, CatalogChange>();
  readonly #purging = new Set<string>();
  readonly #timers: NodeJS.Timeout[] = [];
  #targets: { revision: number; at: number }[] = [];
  #revision = 0;
  #syncedAt: number | null = null;
  #probing = false;
  #stop: (() => void) | null = null;
  #closed = false;
  readonly #loaded: Promise<void>;
  #markLoaded: () => void = () => undefined;

  constructor(kv: KV, jsm: JetStreamManager, stream: string, feed: CatalogFeed) {
    this.#kv = kv;
    this.#jsm = jsm;
    this.#stream = stream;
    this.#feed = feed;
    this.#loaded = new Promise((resolve) => {
      this.#markLoaded = resolve;
    });
  }

  start(): void {
    void this.#follow();
    void this.#probe();
    this.#timers.push(
      setInterval(() => void this.#probe(), CATALOG_SYNC_MS),
      setInterval(() => this.#purge(), PURGE_MS),
    );
    for (const timer of this.#timers) timer.unref();
  }

  /** Resolves once the copy has caught up with the bucket for the first time. */
  get loaded(): Promise<void> {
    return this.#loaded;
  }

  /** The live records of `kind` in revision order, then the marker that covers them. */
  snapshot(kind: string): CatalogEvent[] {
    const now = Date.now();
    const live = [...this.#entries.values()]
      .filter((e) => e.kind === kind && isLive(e.expiresAt, now))
      .sort((a, b) => a.revision - b.revision);
    return [...live, { type: "synced", at: this.#syncedAt ?? now }];
  }

  /** Follows the bucket until close; a watch that fails (NATS away) is started again. */
  async #follow(): Promise<void> {
    while (!this.#closed) {
      try {
        const watch = await this.#kv.watch({ key: ">", resumeFromRevision: this.#revision + 1 });
        this.#stop = () => watch.stop();
        if (this.#closed) watch.stop();
        for await (const entry of watch) this.#apply(entry);
      } catch {
        // NATS unreachable: no markers meanwhile, so watchers see their view age.
      }
      if (!this.#closed) await new Promise((resolve) => setTimeout(resolve, 250).unref());
    }
  }

  #apply(entry: KvWatchEntry): void {
    if (entry.revision <= this.#revision) return;
    this.#revision = entry.revision;
    const dot = entry.key.indexOf(".");
    if (dot > 0) this.#record(entry, entry.key.slice(0, dot), entry.key.slice(dot + 1));
    this.#reach();
  }

  #record(entry: KvWatchEntry, kind: string, key: string): void {
    const envelope = entry.operation === "PUT" ? decodeEnvelope(entry) : null;
    if (envelope === null) {
      const known = this.#entries.delete(entry.key);
      if (known)
        this.#feed.publish({
          type: "change",
          kind,
          key,
          revision: entry.revision,
          value: null,
          updatedAt: entry.created.getTime(),
          expiresAt: null,
        });
      return;
    }
    const change: CatalogChange = {
      type: "change",
      kind,
      key,
      revision: entry.revision,
      value: envelope.v,
      updatedAt: entry.created.getTime(),
      expiresAt: envelope.e,
    };
    this.#entries.set(entry.key, change);
    this.#feed.publish(change);
  }

  async #probe(): Promise<void> {
    if (this.#probing || this.#closed) return;
    this.#probing = true;
    try {
      const at = Date.now();
      const info = await this.#jsm.streams.info(this.#stream);
      this.#targets.push({ revision: info.state.last_seq, at });
      if (this.#targets.length > MAX_TARGETS) this.#targets.shift();
      this.#reach();
    } catch {
      // Unreachable: this probe confirms nothing.
    } finally {
      this.#probing = false;
    }
  }

  /** Confirms every probe the copy has caught up with. */
  #reach(): void {
    let reached: number | null = null;
    while (this.#targets.length > 0 && (this.#targets[0]?.revision ?? 0) <= this.#revision)
      reached = this.#targets.shift()?.at ?? reached;
    if (reached === null) return;
    this.#syncedAt = reached;
    this.#markLoaded();
    this.#feed.synced(reached);
  }

  #purge(): void {
    if (this.#closed) return;
    const now = Date.now();
    for (const [kvKey, entry] of this.#entries) {
      if (isLive(entry.expiresAt, now) || this.#purging.has(kvKey)) continue;
      this.#purging.add(kvKey);
      this.#kv
        .delete(kvKey, { previousSeq: entry.revision })
        .catch(() => undefined) // rewritten or purged by another node meanwhile
        .finally(() => this.#purging.delete(kvKey));
    }
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#stop?.();
  }
}
