import { hash, randomBytes } from "node:crypto";
import { systemClock, type TimeSource } from "../core/clock.js";
import type { Catalog, CatalogEvent, CatalogValue } from "../engine/engine.js";
import { followCatalog } from "./catalog-follow.js";
import { type KeyStore, type Principal, STALE_VIEW_MS } from "./keys.js";

/** The Catalog kind holding dashboard sessions, keyed by the SHA-256 (hex) of the session id. */
export const SESSIONS_KIND = "sessions";

/** How long sessions live (API.md: 12 h at most, 1 h idle); shorter in tests. */
export interface SessionTimes {
  readonly lifetimeMs: number;
  readonly idleMs: number;
  /** `lastSeenAt` is written back at most this often per session, not on every request. */
  readonly touchMs: number;
}

export const SESSION_TIMES: SessionTimes = {
  lifetimeMs: 12 * 3_600_000,
  idleMs: 3_600_000,
  touchMs: 60_000,
};

/** What the Catalog holds of a session: never its id, only the id's hash (the record's key). */
export interface Session {
  readonly keyId: string;
  readonly csrf: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
}

/** A session that passed its checks, with the key it acts as. */
export interface OpenSession {
  readonly session: Session;
  readonly principal: Principal;
  /** The record's key (the id's hash): what `isOpen` takes, so holders need not keep the id. */
  readonly ref: string;
}

const digest = (id: string) => hash("sha256", id, "hex");
const token = () => randomBytes(32).toString("base64url");
/** 32 random bytes in base64url: 43 characters. */
const ID_FORMAT = /^[A-Za-z0-9_-]{43}$/;

function fromValue(v: CatalogValue): Session | undefined {
  const { keyId, csrf, createdAt, lastSeenAt, expiresAt } = v;
  if (
    typeof keyId !== "string" ||
    typeof csrf !== "string" ||
    typeof createdAt !== "number" ||
    typeof lastSeenAt !== "number" ||
    typeof expiresAt !== "number"
  )
    return undefined;
  return { keyId, csrf, createdAt, lastSeenAt, expiresAt };
}

/**
 * Dashboard sessions in the Catalog, so every node of an installation honours them. A
 * session acts as its key: every lookup checks the key against the node's key view (a Map
 * lookup), so a revoked or expired key ends its sessions at once. The record's TTL is the
 * sooner of its 12 h end and 1 h past `lastSeenAt`, so the store forgets dead sessions itself.
 *
 * Requests read the record (`find`); open streams are checked against a node-local view of
 * the records (`isOpen`, kept by a Catalog watch from `start()`), so a session ended on any
 * node, by sign-out, expiry or a purge, closes them without a store read per stream.
 */
export class SessionStore {
  readonly #catalog: Catalog;
  readonly #keys: KeyStore;
  readonly #clock: TimeSource;
  readonly #times: SessionTimes;
  /** Sessions whose `lastSeenAt` write is under way on this node. */
  readonly #touching = new Set<string>();
  /** The watch's view: live records by ref. */
  readonly #view = new Map<string, Session>();
  /** Refs the watch saw deleted, with when: a stream's session may predate the view's copy. */
  readonly #ended = new Map<string, number>();
  readonly #stop = new AbortController();
  #syncedAt = Number.NEGATIVE_INFINITY;
  #watching: Promise<void> | undefined;

  constructor(
    catalog: Catalog,
    keys: KeyStore,
    options: { clock?: TimeSource; times?: Partial<SessionTimes> } = {},
  ) {
    this.#catalog = catalog;
    this.#keys = keys;
    this.#clock = options.clock ?? systemClock;
    this.#times = { ...SESSION_TIMES, ...options.times };
  }

  /** Starts the view open streams are checked against; resolves once it holds the records. */
  async start(): Promise<void> {
    if (this.#watching !== undefined) return;
    const following = followCatalog(this.#catalog, SESSIONS_KIND, this.#stop.signal, (event) =>
      this.#apply(event),
    );
    this.#watching = following.done;
    await following.ready;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#watching;
  }

  #apply(event: CatalogEvent): void {
    if (event.type === "synced") {
      this.#syncedAt = this.#clock.now();
      return;
    }
    const session = event.value === null ? undefined : fromValue(event.value);
    if (session !== undefined) {
      this.#view.set(event.key, session);
      return;
    }
    this.#view.delete(event.key);
    const now = this.#clock.now();
    this.#ended.set(event.key, now);
    // A marker matters only while a stream of that session could be open: its lifetime.
    for (const [ref, at] of this.#ended)
      if (now - at > this.#times.lifetimeMs) this.#ended.delete(ref);
  }

  /**
   * Whether the view streams are checked against was confirmed current within 5 s, as the
   * key view must be: a stale one could miss a sign-out made on another node.
   */
  isFresh(now = this.#clock.now()): boolean {
    return now - this.#syncedAt <= STALE_VIEW_MS;
  }

  #live(session: Session, now: number): boolean {
    return now < session.expiresAt && now - session.lastSeenAt < this.#times.idleMs;
  }

  /**
   * Whether the session a stream was opened with (`open`, as `find` returned it) is still
   * open on this node's view: not signed out or purged, not past its 12 h end or idle. An
   * open stream is not activity: a session with only a stream goes idle. Its key is the
   * stream's own check.
   */
  isOpen(open: Pick<OpenSession, "ref" | "session">): boolean {
    if (this.#ended.has(open.ref)) return false;
    // The view may not have the record yet (written on another node a moment ago).
    const session = this.#view.get(open.ref) ?? open.session;
    return this.#live(session, this.#clock.now());
  }

  #ttl(session: Session, now: number): number {
    return Math.max(1, Math.min(session.expiresAt, session.lastSeenAt + this.#times.idleMs) - now);
  }

  /** A new session for an authenticated key: its id (for the cookie only) and record. */
  async create(principal: Principal): Promise<{ id: string; session: Session }> {
    const now = this.#clock.now();
    const keyEnd = principal.record.expiresAt ?? Number.POSITIVE_INFINITY;
    const session: Session = {
      keyId: principal.record.id,
      csrf: token(),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: Math.min(now + this.#times.lifetimeMs, keyEnd),
    };
    const id = token();
    await this.#catalog.put(
      SESSIONS_KIND,
      digest(id),
      { ...session },
      {
        expectedRevision: 0,
        ttlMs: this.#ttl(session, now),
      },
    );
    return { id, session };
  }

  /** The live session an id names, or undefined (unknown, ended, expired, idle, key gone). */
  async find(id: string): Promise<OpenSession | undefined> {
    if (!ID_FORMAT.test(id)) return undefined;
    const key = digest(id);
    const entry = await this.#catalog.get(SESSIONS_KIND, key);
    const session = entry === null ? undefined : fromValue(entry.value);
    if (entry === null || session === undefined) return undefined;
    const now = this.#clock.now();
    const principal = this.#keys.principalOf(session.keyId);
    if (principal === undefined) {
      // The key was revoked or expired: its sessions end with it.
      void this.#catalog.delete(SESSIONS_KIND, key).catch(() => undefined);
      return undefined;
    }
    if (!this.#live(session, now)) return undefined;
    if (now - session.lastSeenAt >= this.#times.touchMs) this.#touch(key, session, entry.revision);
    return { session, principal, ref: key };
  }

  /** Writes `lastSeenAt` (and the TTL it moves) in the background; a lost race is harmless. */
  #touch(key: string, session: Session, revision: number): void {
    if (this.#touching.has(key)) return;
    this.#touching.add(key);
    const now = this.#clock.now();
    const touched = { ...session, lastSeenAt: now };
    this.#catalog
      .put(SESSIONS_KIND, key, touched, {
        expectedRevision: revision,
        ttlMs: this.#ttl(touched, now),
      })
      .catch(() => undefined)
      .finally(() => this.#touching.delete(key));
  }

  /** Ends a session (DELETE /ui/session); ending one already gone is not an error. */
  async end(id: string): Promise<void> {
    if (ID_FORMAT.test(id)) await this.#catalog.delete(SESSIONS_KIND, digest(id));
  }
}
