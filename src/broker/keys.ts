import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { systemClock, type TimeSource } from "../core/clock.js";
import { type FieldError, isSwitchyardError, SwitchyardError } from "../core/errors.js";
import type { Catalog, CatalogEvent, CatalogValue } from "../engine/engine.js";
import { followCatalog } from "./catalog-follow.js";
import { Grants, parseScopes } from "./scopes.js";

/** The Catalog kind holding API keys, one record per key id (tombstones included). */
export const KEYS_KIND = "keys";

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ID_LENGTH = 16;
/** 43 base62 characters carry 43 × log2(62) ≈ 256.03 bits. */
const SECRET_LENGTH = 43;
const KEY_FORMAT = /^sy_([a-z0-9]{16})_([0-9A-Za-z]{43})$/;
/** A view whose last `synced` marker is older than this is not trusted (API.md). */
export const STALE_VIEW_MS = 5_000;
const DEFAULT_FLUSH_MS = 60_000;

export interface RateLimit {
  readonly requestsPerSec?: number;
  readonly eventsPerSec?: number;
}

/** A live key as the router holds it: never the secret, only its SHA-256. */
export interface KeyRecord {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly rateLimit: RateLimit | null;
  readonly lastUsedAt: number | null;
}

/** What the API shows of a key (`GET /v1/keys`): no hash, ever. */
export interface KeyView {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly rateLimit?: RateLimit;
}

export interface CreatedKey extends KeyView {
  /** The whole key, shown once. */
  readonly key: string;
}

/** A key that passed authentication: its record and its compiled scopes. */
export interface Principal {
  readonly record: KeyRecord;
  readonly grants: Grants;
}

interface StoredKey {
  readonly record: KeyRecord;
  readonly hash: Buffer;
  readonly grants: Grants;
  readonly revision: number;
}

/** Uniform characters of `alphabet` from `crypto.randomBytes`, by rejection sampling. */
function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** One-shot `crypto.hash`: cheaper per call than a `createHash` object, on every request. */
function sha256(secret: string): Buffer {
  return hash("sha256", secret, "buffer");
}

/** `sy_<id>_<secret>` split, or undefined when the text is not in the format. */
export function parseKey(text: string): { id: string; secret: string } | undefined {
  const match = KEY_FORMAT.exec(text);
  return match === null ? undefined : { id: match[1] as string, secret: match[2] as string };
}

/** A fresh key: its id, secret and whole text. */
export function generateKey(): { id: string; secret: string; key: string } {
  const id = randomString(ID_ALPHABET, ID_LENGTH);
  const secret = randomString(SECRET_ALPHABET, SECRET_LENGTH);
  return { id, secret, key: `sy_${id}_${secret}` };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function keyView(record: KeyRecord): KeyView {
  return {
    id: record.id,
    name: record.name,
    scopes: record.scopes,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: iso(record.expiresAt),
    lastUsedAt: iso(record.lastUsedAt),
    ...(record.rateLimit === null ? {} : { rateLimit: record.rateLimit }),
  };
}

function toValue(record: KeyRecord, hash: Buffer): CatalogValue {
  return {
    id: record.id,
    name: record.name,
    scopes: record.scopes,
    hash: hash.toString("hex"),
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    rateLimit: record.rateLimit,
    lastUsedAt: record.lastUsedAt,
  };
}

function isTombstone(value: CatalogValue): boolean {
  return value.revoked === true;
}

/** A stored record back into a key; undefined for a tombstone or a record it cannot read. */
function fromEntry(entry: { value: CatalogValue; revision: number }): StoredKey | undefined {
  const v = entry.value;
  if (isTombstone(v) || typeof v.id !== "string" || typeof v.hash !== "string") return undefined;
  const scopes = Array.isArray(v.scopes) ? v.scopes.filter((s) => typeof s === "string") : [];
  const record: KeyRecord = {
    id: v.id,
    name: typeof v.name === "string" ? v.name : v.id,
    scopes,
    createdAt: typeof v.createdAt === "number" ? v.createdAt : 0,
    expiresAt: typeof v.expiresAt === "number" ? v.expiresAt : null,
    rateLimit: typeof v.rateLimit === "object" && v.rateLimit !== null ? v.rateLimit : null,
    lastUsedAt: typeof v.lastUsedAt === "number" ? v.lastUsedAt : null,
  };
  return {
    record,
    hash: Buffer.from(v.hash, "hex"),
    grants: new Grants(scopes),
    revision: entry.revision,
  };
}

/** Why a credential was refused, for the audit trail: a class and the key id, never the secret. */
export type RefusalClass = "missing" | "malformed" | "unknown" | "expired" | "revoked";

/** A 401 that also says which class of refusal it is (`reason`) and the key id if parsed. */
export class Unauthenticated extends SwitchyardError {
  readonly reason: RefusalClass;
  readonly keyId: string | null;
  constructor(why: string, reason: RefusalClass, keyId: string | null = null) {
    super("unauthenticated", why);
    this.reason = reason;
    this.keyId = keyId;
  }
}

const unauthenticated = (why: string, reason: RefusalClass, keyId?: string) =>
  new Unauthenticated(why, reason, keyId);

export interface NewKeyRequest {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number | null;
  readonly rateLimit: RateLimit | null;
}

function parseRateLimit(input: unknown, errors: FieldError[]): RateLimit | null {
  if (input === undefined || input === null) return null;
  if (typeof input !== "object" || Array.isArray(input)) {
    errors.push({ pointer: "/rateLimit", message: "must be an object" });
    return null;
  }
  const out: { requestsPerSec?: number; eventsPerSec?: number } = {};
  for (const [field, value] of Object.entries(input)) {
    if (field !== "requestsPerSec" && field !== "eventsPerSec")
      errors.push({ pointer: `/rateLimit/${field}`, message: "unknown field" });
    else if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
      errors.push({ pointer: `/rateLimit/${field}`, message: "must be a positive number" });
    else out[field] = value;
  }
  return out;
}

/** Validates a `POST /v1/keys` body (400 `invalid_request` with pointers). */
export function parseNewKey(body: unknown, now: number): NewKeyRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new SwitchyardError("invalid_request", "send a JSON object", {
      errors: [{ pointer: "", message: "must be an object" }],
    });
  const input = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const field of Object.keys(input))
    if (!["name", "scopes", "expiresAt", "rateLimit"].includes(field))
      errors.push({ pointer: `/${field}`, message: "unknown field" });
  const name = input.name;
  if (typeof name !== "string" || name.length < 1 || name.length > 64)
    errors.push({ pointer: "/name", message: "must be a string of 1 to 64 characters" });
  let scopes: string[] = [];
  try {
    scopes = parseScopes(input.scopes);
  } catch (error) {
    if (!isSwitchyardError(error)) throw error;
    errors.push(...error.errors);
  }
  let expiresAt: number | null = null;
  if (input.expiresAt !== undefined && input.expiresAt !== null) {
    const ms = typeof input.expiresAt === "string" ? Date.parse(input.expiresAt) : Number.NaN;
    if (Number.isNaN(ms))
      errors.push({ pointer: "/expiresAt", message: "must be an RFC 3339 time" });
    else if (ms <= now) errors.push({ pointer: "/expiresAt", message: "must be in the future" });
    else expiresAt = ms;
  }
  const rateLimit = parseRateLimit(input.rateLimit, errors);
  if (errors.length > 0)
    throw new SwitchyardError("invalid_request", "the key request is not valid", { errors });
  return { name: name as string, scopes, expiresAt, rateLimit };
}

export interface KeyStoreOptions {
  readonly clock?: TimeSource;
  /** How often remembered `lastUsedAt` times are written back (default 60 s). */
  readonly flushMs?: number;
}

/**
 * The keys of an installation: writes go to the Catalog (compare-and-set), authentication
 * reads a node-local view kept current by `catalog.watch("keys")`, so a request costs a Map
 * lookup and one SHA-256, never a Catalog read.
 */
export class KeyStore {
  readonly #catalog: Catalog;
  readonly #clock: TimeSource;
  readonly #flushMs: number;
  readonly #live = new Map<string, StoredKey>();
  /** Ids seen revoked by the watch: a refusal of one is audited as `revoked`, not `unknown`. */
  readonly #revoked = new Set<string>();
  readonly #used = new Map<string, number>();
  readonly #stop = new AbortController();
  #syncedAt = Number.NEGATIVE_INFINITY;
  #watching: Promise<void> | undefined;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(catalog: Catalog, options: KeyStoreOptions = {}) {
    this.#catalog = catalog;
    this.#clock = options.clock ?? systemClock;
    this.#flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
  }

  /** Starts the watch; resolves once the view holds the initial state. */
  async start(): Promise<void> {
    if (this.#watching !== undefined) return;
    const following = followCatalog(this.#catalog, KEYS_KIND, this.#stop.signal, (event) =>
      this.#apply(event),
    );
    this.#watching = following.done;
    this.#flushTimer = setInterval(() => void this.flush(), this.#flushMs);
    this.#flushTimer.unref();
    await following.ready;
  }

  #apply(event: CatalogEvent): void {
    if (event.type === "synced") {
      this.#syncedAt = this.#clock.now();
      return;
    }
    const stored =
      event.value === null
        ? undefined
        : fromEntry({ value: event.value, revision: event.revision });
    if (event.value !== null && isTombstone(event.value)) this.#revoked.add(event.key);
    if (stored === undefined) this.#live.delete(event.key);
    else this.#live.set(event.key, stored);
  }

  /** Stops the watch and writes the remembered `lastUsedAt` times. */
  async close(): Promise<void> {
    clearInterval(this.#flushTimer);
    await this.flush();
    this.#stop.abort();
    await this.#watching;
  }

  /**
   * Whether the view was confirmed current (a `synced` marker) within the last 5 s: what
   * requests (503 otherwise) and open streams (closed otherwise) are held to.
   */
  isFresh(now = this.#clock.now()): boolean {
    return now - this.#syncedAt <= STALE_VIEW_MS;
  }

  /** 503 rather than trust a view more than 5 s stale (API.md). */
  #checkFresh(now: number): void {
    if (!this.isFresh(now))
      throw new SwitchyardError(
        "engine_unavailable",
        "this router's view of the API keys is stale; try again shortly",
      );
  }

  /**
   * The key a presented `Authorization` value names, or 401 `unauthenticated` (503
   * `engine_unavailable` when the view is stale). The message never repeats the credential.
   */
  authenticate(authorization: string | undefined): Principal {
    const now = this.#clock.now();
    this.#checkFresh(now);
    if (authorization === undefined)
      throw unauthenticated("send an API key: Authorization: Bearer sy_…", "missing");
    const space = authorization.indexOf(" ");
    const scheme = authorization.slice(0, space);
    if (space === -1 || scheme.toLowerCase() !== "bearer")
      throw unauthenticated("the Authorization header must be Bearer <key>", "malformed");
    const parts = parseKey(authorization.slice(space + 1).trim());
    if (parts === undefined)
      throw unauthenticated("the API key is not in the sy_<id>_<secret> format", "malformed");
    const stored = this.#live.get(parts.id);
    if (stored === undefined || !timingSafeEqual(sha256(parts.secret), stored.hash))
      throw unauthenticated(
        "the API key is unknown or revoked",
        this.#revoked.has(parts.id) ? "revoked" : "unknown",
        parts.id,
      );
    if (stored.record.expiresAt !== null && stored.record.expiresAt <= now)
      throw unauthenticated("the API key has expired", "expired", parts.id);
    this.#used.set(parts.id, now);
    return { record: stored.record, grants: stored.grants };
  }

  /** True while the key is in the view and not expired (open streams are checked with it). */
  isValid(id: string): boolean {
    const stored = this.#live.get(id);
    if (stored === undefined) return false;
    const expiresAt = stored.record.expiresAt;
    return expiresAt === null || expiresAt > this.#clock.now();
  }

  /**
   * The live key with this id, as a dashboard session acts as it (no secret is presented:
   * the session proved it); undefined when revoked or expired, 503 when the view is stale.
   */
  principalOf(id: string): Principal | undefined {
    const now = this.#clock.now();
    this.#checkFresh(now);
    const stored = this.#live.get(id);
    if (stored === undefined || !this.isValid(id)) return undefined;
    this.#used.set(id, now);
    return { record: stored.record, grants: stored.grants };
  }

  /** Writes remembered `lastUsedAt` times; a record changed meanwhile is left alone. */
  async flush(): Promise<void> {
    const used = [...this.#used];
    this.#used.clear();
    for (const [id, at] of used) {
      const stored = this.#live.get(id);
      if (stored === undefined) continue;
      const record = { ...stored.record, lastUsedAt: at };
      try {
        await this.#catalog.put(KEYS_KIND, id, toValue(record, stored.hash), {
          expectedRevision: stored.revision,
        });
      } catch {
        // A conflict (revoked or written by another node) or an unreachable store: skip.
      }
    }
  }

  async create(request: NewKeyRequest): Promise<CreatedKey> {
    for (;;) {
      const { id, secret, key } = generateKey();
      const record: KeyRecord = { ...request, id, createdAt: this.#clock.now(), lastUsedAt: null };
      try {
        await this.#catalog.put(KEYS_KIND, id, toValue(record, sha256(secret)), {
          expectedRevision: 0,
        });
      } catch (error) {
        if (isSwitchyardError(error) && error.code === "revision_conflict") continue;
        throw error;
      }
      return { ...keyView(record), key };
    }
  }

  /**
   * Registers a key given whole (SWITCHYARD_ADMIN_KEY) if its id is absent (`created`, with
   * the view of what was written, for the audit trail); refuses when the id was revoked or
   * holds another secret.
   */
  async register(
    key: string,
    name: string,
    scopes: readonly string[],
  ): Promise<{ readonly created: KeyView } | "exists"> {
    const parts = parseKey(key);
    if (parts === undefined)
      throw new SwitchyardError(
        "invalid_request",
        "the key is not in the sy_<id>_<secret> format (16 + 43 characters)",
      );
    const hash = sha256(parts.secret);
    for (;;) {
      const entry = await this.#catalog.get(KEYS_KIND, parts.id);
      if (entry !== null) {
        if (isTombstone(entry.value))
          throw new SwitchyardError(
            "conflict",
            `the key ${parts.id} was revoked; generate a new one`,
          );
        const stored = fromEntry(entry);
        if (stored === undefined || !timingSafeEqual(stored.hash, hash))
          throw new SwitchyardError(
            "conflict",
            `the key id ${parts.id} is registered with another secret`,
          );
        return "exists";
      }
      const record: KeyRecord = {
        id: parts.id,
        name,
        scopes,
        createdAt: this.#clock.now(),
        expiresAt: null,
        rateLimit: null,
        lastUsedAt: null,
      };
      try {
        await this.#catalog.put(KEYS_KIND, parts.id, toValue(record, hash), {
          expectedRevision: 0,
        });
        return { created: keyView(record) };
      } catch (error) {
        if (!isSwitchyardError(error) || error.code !== "revision_conflict") throw error;
      }
    }
  }

  /** Revokes a key: its record becomes a tombstone, so the id can never be registered again. */
  async revoke(id: string): Promise<void> {
    for (;;) {
      const entry = await this.#catalog.get(KEYS_KIND, id);
      if (entry === null || isTombstone(entry.value))
        throw new SwitchyardError("key_not_found", `no key ${JSON.stringify(id)}`);
      try {
        await this.#catalog.put(
          KEYS_KIND,
          id,
          { id, revoked: true, revokedAt: this.#clock.now() },
          { expectedRevision: entry.revision },
        );
        return;
      } catch (error) {
        if (!isSwitchyardError(error) || error.code !== "revision_conflict") throw error;
      }
    }
  }

  /** Every key not revoked (expired ones included, so they can be revoked), in id order. */
  async list(): Promise<KeyView[]> {
    const entries = await this.#catalog.list(KEYS_KIND);
    const views: KeyView[] = [];
    for (const entry of entries) {
      const stored = fromEntry(entry);
      if (stored === undefined) continue;
      const used = this.#used.get(stored.record.id);
      views.push(
        keyView(used === undefined ? stored.record : { ...stored.record, lastUsedAt: used }),
      );
    }
    return views;
  }

  /** True when some key is live (not revoked, not expired): `serve` may start without SWITCHYARD_ADMIN_KEY. */
  async anyUsable(): Promise<boolean> {
    const now = this.#clock.now();
    const entries = await this.#catalog.list(KEYS_KIND);
    return entries.some((entry) => {
      const stored = fromEntry(entry);
      return (
        stored !== undefined && (stored.record.expiresAt === null || stored.record.expiresAt > now)
      );
    });
  }
}
