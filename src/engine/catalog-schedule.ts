/**
 * `ScheduleStore` over an engine's Catalog, for engines without a local transaction across
 * the log and a pending table (NATS: the Catalog is a KV bucket every node shares, so
 * pending events survive the loss of any node). Two records per pending event:
 *
 * - `scheduled` `{topic}.{deliverAt, zero-padded}.{hash of source+id}`: the event, in due
 *   order by key, with a `state`;
 * - `scheduled-id` `{topic}.{hash of id}.{hash of source}`: claims the (`source`, `id`)
 *   pair with a create-only write, so a repeat is a duplicate on every node, and lets a
 *   cancel find the event by id.
 *
 * Firing and cancelling race on the event record's revision: a firing first moves it from
 * `pending` to `firing` (compare-and-set), a cancel deletes it only while `pending`, so
 * exactly one wins. A firing then appends with the deterministic message id and deletes the
 * records; one that died in between is retried after `STALE_FIRING_MS` and the store drops
 * the second copy as a duplicate (inside its dedupe window, which is longer).
 *
 * Cost: list, fire and `due` list the keys of the topic's (or every) pending event, then
 * read only the records they need (a page, the due ones); the keys name the due time.
 * That suits tens of thousands, not the million the API allows (docs/scheduled-events.md).
 */
import { createHash } from "node:crypto";
import { isSwitchyardError, SwitchyardError } from "../core/errors.js";
import {
  CATALOG_MAX_VALUE_BYTES,
  type CancelResult,
  type Catalog,
  type CatalogEntry,
  type FireResult,
  MAX_PENDING_PER_TOPIC,
  type PendingEvent,
  type Scheduled,
  type ScheduledPage,
  type ScheduleStore,
} from "./engine.js";
import { scheduledMessageId } from "./scheduled-id.js";

const EVENTS = "scheduled";
const IDS = "scheduled-id";
/** A firing not finished after this long is taken over (its node died or lost the store). */
const STALE_FIRING_MS = 30_000;
/** Room for the record's other fields beside the event's JSON. */
const MAX_BODY_BYTES = CATALOG_MAX_VALUE_BYTES - 8 * 1024;

interface EventValue {
  readonly [field: string]: unknown;
  readonly id: string;
  readonly source: string;
  readonly deliverAt: number;
  readonly key: string | null;
  readonly body: string;
  readonly state: "pending" | "firing";
  readonly firingAt?: number;
}

/** How a firing reaches the log: whether each item is stored (a duplicate counts), null if the topic is gone. */
export type FireAppend = (
  topic: string,
  items: readonly { readonly body: string; readonly key: string | null; readonly msgId: string }[],
) => Promise<readonly boolean[] | null>;

export interface CatalogScheduleDeps {
  readonly catalog: Catalog;
  /** The keys of `kind` starting with `prefix`, in any order, without their values. */
  readonly keys?: (kind: string, prefix: string) => Promise<readonly string[]>;
  readonly topicExists: (topic: string) => Promise<boolean>;
  readonly append: FireAppend;
  readonly now: () => number;
}

/**
 * When events another firing holds (or that failed here) are looked at again: soon, not at
 * once, so a firing that cannot finish does not spin.
 */
const retryLater = (now: number): number => now + RETRY_MS;
const RETRY_MS = 1_000;

const hash = (text: string): string =>
  createHash("sha256").update(text).digest("base64url").slice(0, 22);

const topicKey = (topic: string): string => Buffer.from(topic).toString("base64url");
const topicOf = (key: string): string =>
  Buffer.from(key.slice(0, key.indexOf(".")), "base64url").toString();

const DUE_DIGITS = 15;

function eventKey(topic: string, source: string, id: string, deliverAt: number): string {
  const due = String(Math.max(0, deliverAt)).padStart(DUE_DIGITS, "0");
  return `${topicKey(topic)}.${due}.${hash(`${source}\u0000${id}`)}`;
}

/** The due time an event key names (its value holds the exact one). */
function dueOfKey(key: string): number {
  const first = key.indexOf(".");
  return Number(key.slice(first + 1, first + 1 + DUE_DIGITS));
}

const idKey = (topic: string, source: string, id: string): string =>
  `${topicKey(topic)}.${hash(id)}.${hash(source)}`;

function pendingOf(entry: CatalogEntry): EventValue {
  return entry.value as EventValue;
}

function isConflict(error: unknown): boolean {
  return isSwitchyardError(error) && error.code === "revision_conflict";
}

/**
 * How long `fire` trusts its last listing of a topic's keys. Listing thousands of keys takes
 * longer than the gap between their due times (and delays the connection's other answers),
 * so firing works from this node's copy, kept current by its own writes and relisted in the
 * background; events another node accepted meanwhile show up within this long.
 */
const KEY_CACHE_MS = 5_000;

function insertSorted(keys: string[], key: string): void {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  if (keys[lo] !== key) keys.splice(lo, 0, key);
}

export class CatalogScheduleStore implements ScheduleStore {
  readonly shared = true;
  readonly #deps: CatalogScheduleDeps;
  readonly #cache = new Map<string, { readonly keys: string[]; readonly at: number }>();
  /** Topics being relisted, with the keys this node added meanwhile. */
  readonly #relisting = new Map<string, Set<string>>();

  constructor(deps: CatalogScheduleDeps) {
    this.#deps = deps;
  }

  /** Sorted keys (due order for event keys). */
  async #keys(kind: string, prefix: string): Promise<string[]> {
    const keys =
      this.#deps.keys === undefined
        ? (await this.#deps.catalog.list(kind, prefix)).map((e) => e.key)
        : await this.#deps.keys(kind, prefix);
    return [...keys].sort();
  }

  /**
   * The topic's event keys for firing: listed on first use, then relisted in the background
   * once KEY_CACHE_MS old (see there), so a firing never waits for a listing after the first.
   */
  async #firingKeys(topic: string): Promise<string[]> {
    const cached = this.#cache.get(topic);
    if (cached === undefined) {
      const keys = await this.#keys(EVENTS, `${topicKey(topic)}.`);
      this.#cache.set(topic, { keys, at: Date.now() });
      return keys;
    }
    if (Date.now() - cached.at >= KEY_CACHE_MS && !this.#relisting.has(topic))
      void this.#relist(topic);
    return cached.keys;
  }

  async #relist(topic: string): Promise<void> {
    const added = new Set<string>();
    this.#relisting.set(topic, added);
    try {
      const keys = await this.#keys(EVENTS, `${topicKey(topic)}.`);
      if (!this.#cache.has(topic)) return; // dropped meanwhile
      // Keys this node wrote while the listing ran may be missing from it.
      for (const key of added) insertSorted(keys, key);
      this.#cache.set(topic, { keys, at: Date.now() });
    } catch {
      // Unreachable store: the next firing tries again.
    } finally {
      this.#relisting.delete(topic);
    }
  }

  #forget(topic: string, gone: readonly string[]): void {
    const cached = this.#cache.get(topic);
    if (cached === undefined || gone.length === 0) return;
    const set = new Set(gone);
    this.#cache.set(topic, { keys: cached.keys.filter((k) => !set.has(k)), at: cached.at });
  }

  /** The records of `keys` still there, in the keys' order. */
  async #records(keys: readonly string[]): Promise<CatalogEntry[]> {
    const entries = await Promise.all(keys.map((k) => this.#deps.catalog.get(EVENTS, k)));
    return entries.filter((e): e is CatalogEntry => e !== null);
  }

  async #requireTopic(topic: string): Promise<void> {
    if (!(await this.#deps.topicExists(topic)))
      throw new SwitchyardError("topic_not_found", `topic ${topic} does not exist`);
  }

  async schedule(topic: string, events: readonly PendingEvent[]): Promise<readonly Scheduled[]> {
    await this.#requireTopic(topic);
    for (const { event } of events)
      if (Buffer.byteLength(event.body) > MAX_BODY_BYTES)
        throw new SwitchyardError(
          "event_too_large",
          `a scheduled event is at most ${MAX_BODY_BYTES} bytes on this engine`,
        );
    const { catalog } = this.#deps;
    const pending = (await this.#keys(IDS, `${topicKey(topic)}.`)).length;
    if (pending + events.length > MAX_PENDING_PER_TOPIC)
      throw new SwitchyardError(
        "rate_limited",
        `topic ${topic} already holds the most pending scheduled events (${MAX_PENDING_PER_TOPIC}); retry once some have fired`,
        { retryAfterSeconds: 1 },
      );
    const results: Scheduled[] = [];
    for (const { event, deliverAt } of events) {
      const claim = idKey(topic, event.source, event.id);
      const ref = eventKey(topic, event.source, event.id, deliverAt);
      const existing = await this.#claim(claim, ref);
      if (existing !== null) {
        results.push({ deliverAt: existing, duplicate: true });
        continue;
      }
      const value: EventValue = {
        id: event.id,
        source: event.source,
        deliverAt,
        key: event.key,
        body: event.body,
        state: "pending",
      };
      await catalog.put(EVENTS, ref, value);
      const cached = this.#cache.get(topic);
      if (cached !== undefined) insertSorted(cached.keys, ref);
      this.#relisting.get(topic)?.add(ref);
      results.push({ deliverAt, duplicate: false });
    }
    return results;
  }

  /** Claims the pair for `ref`; the due time of the pending event holding it, or null once claimed. */
  async #claim(claim: string, ref: string): Promise<number | null> {
    const { catalog } = this.#deps;
    try {
      await catalog.put(IDS, claim, { ref }, { expectedRevision: 0 });
      return null;
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    const held = await catalog.get(IDS, claim);
    const heldRef = typeof held?.value.ref === "string" ? held.value.ref : null;
    const event = heldRef === null ? null : await catalog.get(EVENTS, heldRef);
    if (event !== null) return pendingOf(event).deliverAt;
    // A claim whose event is gone (a node died between the two writes): take it over.
    await catalog.put(IDS, claim, { ref }, { expectedRevision: held?.revision ?? 0 });
    return null;
  }

  async list(topic: string, limit: number, after: string | null): Promise<ScheduledPage> {
    await this.#requireTopic(topic);
    const from = after === null ? null : Buffer.from(after, "base64url").toString();
    if (from !== null && !from.startsWith(`${topicKey(topic)}.`))
      throw new SwitchyardError("invalid_request", "after: not a page token of this list", {
        errors: [{ pointer: "query:after", message: "is not a page token of this list" }],
      });
    const all = await this.#keys(EVENTS, `${topicKey(topic)}.`);
    const rest = from === null ? all : all.filter((k) => k > from);
    const page = await this.#records(rest.slice(0, limit));
    const last = rest.length > limit ? rest[limit - 1] : undefined;
    return {
      records: page.map((e) => {
        const v = pendingOf(e);
        return { id: v.id, source: v.source, deliverAt: v.deliverAt, body: v.body };
      }),
      next: last === undefined ? null : Buffer.from(last).toString("base64url"),
    };
  }

  async cancel(topic: string, id: string, source: string | null): Promise<CancelResult> {
    await this.#requireTopic(topic);
    const { catalog } = this.#deps;
    const claimKeys =
      source === null
        ? await this.#keys(IDS, `${topicKey(topic)}.${hash(id)}.`)
        : [idKey(topic, source, id)];
    const claims = (await Promise.all(claimKeys.map((k) => catalog.get(IDS, k)))).filter(
      (c): c is CatalogEntry => c !== null,
    );
    const live: { claim: CatalogEntry; event: CatalogEntry }[] = [];
    for (const claim of claims) {
      const ref = typeof claim.value.ref === "string" ? claim.value.ref : "";
      const event = ref === "" ? null : await catalog.get(EVENTS, ref);
      if (event !== null && pendingOf(event).id === id) live.push({ claim, event });
    }
    const [only] = live;
    if (only === undefined) return "not_found";
    if (live.length > 1) return "ambiguous";
    if (pendingOf(only.event).state !== "pending") return "not_found";
    try {
      await catalog.delete(EVENTS, only.event.key, { expectedRevision: only.event.revision });
    } catch (error) {
      if (isConflict(error)) return "not_found"; // a firing claimed it first
      throw error;
    }
    await catalog
      .delete(IDS, only.claim.key, { expectedRevision: only.claim.revision })
      .catch(() => undefined);
    return "cancelled";
  }

  async due(): Promise<ReadonlyMap<string, number>> {
    const due = new Map<string, number>();
    for (const key of await this.#keys(EVENTS, "")) {
      const topic = topicOf(key);
      if (!due.has(topic)) due.set(topic, dueOfKey(key)); // sorted: the first is the earliest
    }
    return due;
  }

  async fire(topic: string, now: number, limit: number): Promise<FireResult> {
    const { catalog } = this.#deps;
    const keys = await this.#firingKeys(topic);
    const dueKeys = keys.filter((k) => dueOfKey(k) <= now).slice(0, limit);
    const after = keys[dueKeys.length];
    const later = after === undefined ? null : dueOfKey(after);
    const records = await this.#records(dueKeys);
    const found = new Set(records.map((e) => e.key));
    this.#forget(
      topic,
      dueKeys.filter((k) => !found.has(k)), // fired or cancelled elsewhere
    );
    const due = records.filter((e) => pendingOf(e).deliverAt <= now);
    const claimed: CatalogEntry[] = [];
    for (const entry of due) {
      const v = pendingOf(entry);
      const at = this.#deps.now();
      if (v.state === "firing" && at - (v.firingAt ?? 0) < STALE_FIRING_MS) continue;
      try {
        const revision = await catalog.put(
          EVENTS,
          entry.key,
          { ...v, state: "firing", firingAt: at },
          { expectedRevision: entry.revision },
        );
        claimed.push({ ...entry, revision });
      } catch (error) {
        if (!isConflict(error)) throw error; // cancelled, or claimed by another node
      }
    }
    // Due events left behind (claimed elsewhere, or not stored here) are looked at again soon.
    const nextAfter = (fired: number): number | null =>
      fired < due.length ? Math.min(retryLater(now), later ?? Number.POSITIVE_INFINITY) : later;
    if (claimed.length === 0) return { fired: 0, next: nextAfter(0) };
    const items = claimed.map((e) => {
      const v = pendingOf(e);
      return {
        body: v.body,
        key: v.key,
        msgId: scheduledMessageId(topic, v.source, v.id, v.deliverAt),
      };
    });
    const stored = await this.#deps.append(topic, items);
    if (stored === null) {
      await this.drop(topic);
      return { fired: 0, next: null };
    }
    let fired = 0;
    for (let i = 0; i < claimed.length; i++) {
      const entry = claimed[i] as CatalogEntry;
      if (stored[i] !== true) continue; // left `firing`: retried once stale
      fired++;
      const v = pendingOf(entry);
      await catalog.delete(EVENTS, entry.key).catch(() => undefined);
      this.#forget(topic, [entry.key]);
      const claim = await catalog.get(IDS, idKey(topic, v.source, v.id));
      if (claim !== null && claim.value.ref === entry.key)
        await catalog
          .delete(IDS, claim.key, { expectedRevision: claim.revision })
          .catch(() => undefined);
    }
    return { fired, next: nextAfter(fired) };
  }

  /** Drops every pending event of a deleted topic. */
  async drop(topic: string): Promise<void> {
    this.#cache.delete(topic);
    const { catalog } = this.#deps;
    for (const kind of [EVENTS, IDS])
      for (const entry of await catalog.list(kind, `${topicKey(topic)}.`))
        await catalog.delete(kind, entry.key).catch(() => undefined);
  }
}
