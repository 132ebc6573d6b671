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
 * Finding due events: every node keeps an index of the pending keys by due time in memory
 * (due-index.ts), loaded from its watch of the bucket at open and kept by every put and
 * delete the watch brings (and by its own writes at once), so `due` and `fire` never list
 * the bucket. `list` and a cancel by id alone list the topic's keys (not their values).
 *
 * Deleting a record leaves a delete marker in the bucket for good (two per fired or
 * cancelled event); the firing node erases them once `markerKeepMs` old (delete-markers.ts),
 * so the bucket holds what is pending, not everything that ever was.
 */
import { createHash } from "node:crypto";
import { isSwitchyardError, SwitchyardError } from "../core/errors.js";
import { DeleteMarkers } from "./delete-markers.js";
import { DueIndex } from "./due-index.js";
import {
  CATALOG_MAX_VALUE_BYTES,
  type CancelResult,
  type Catalog,
  type CatalogChange,
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
  /** Ends the store's watches of the bucket (the engine closing). */
  readonly signal: AbortSignal;
  /** How long a call waits for the index's first load; default 10 s. */
  readonly timeoutMs?: number;
  /**
   * Removes the delete marker `revision` of a record, and anything older of it, from the
   * store (a record written after it stays). Absent: markers stay.
   */
  readonly erase?: (kind: string, key: string, revision: number) => Promise<void>;
  /** How old a delete marker gets before it is erased; default `DEFAULT_MARKER_KEEP_MS`. */
  readonly markerKeepMs?: number;
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
 * How long the delete markers of fired and cancelled events stay by default. Nothing reads
 * them (a compare-and-set on a record that is gone fails just the same, and a firing is
 * kept from repeating by its message id in the topic stream's duplicate window, at least
 * 2 minutes), but a node whose copy of the bucket lags learns of a delete only from its
 * marker: this leaves it 10 minutes to catch up.
 */
export const DEFAULT_MARKER_KEEP_MS = 10 * 60_000;

export class CatalogScheduleStore implements ScheduleStore {
  readonly shared = true;
  readonly #deps: CatalogScheduleDeps;
  /** The pending event keys, kept by this node's watch of the bucket and its own writes. */
  readonly #index = new DueIndex(dueOfKey);
  /**
   * Keys this node removed from the index, with the last revision it wrote: the watch may
   * still bring that older write after the removal, and must not add the key back.
   */
  readonly #gone = new Map<string, number>();
  readonly #markers: DeleteMarkers;
  readonly #listeners = new Set<(topic: string, deliverAt: number) => void>();
  readonly #ready: Promise<void>;
  /** Appended events whose records are being removed. */
  readonly #finishing = new Set<Promise<void>>();
  #loaded = false;

  /** Starts following the bucket's pending events (until `deps.signal` aborts). */
  constructor(deps: CatalogScheduleDeps) {
    this.#deps = deps;
    this.#markers = new DeleteMarkers(deps.markerKeepMs ?? DEFAULT_MARKER_KEEP_MS);
    this.#ready = this.#follow(EVENTS).then(() => {
      this.#loaded = true;
    });
    void this.#follow(IDS);
  }

  /** Follows `kind` in the background; resolves once its first view is complete. */
  #follow(kind: string): Promise<void> {
    return new Promise((resolve) => {
      void (async () => {
        try {
          for await (const event of this.#deps.catalog.watch(kind, this.#deps.signal)) {
            if (event.type === "synced") resolve();
            else this.#apply(event);
          }
        } catch {
          // The engine is closing.
        }
      })();
    });
  }

  #apply(change: CatalogChange): void {
    const events = change.kind === EVENTS;
    if (change.value === null) {
      if (events) {
        this.#index.remove(topicOf(change.key), change.key);
        this.#gone.delete(change.key);
      }
      this.#markers.note({
        kind: change.kind,
        key: change.key,
        revision: change.revision,
        at: change.updatedAt,
      });
      return;
    }
    if (!events) return;
    const gone = this.#gone.get(change.key);
    if (gone !== undefined) {
      if (change.revision <= gone) return;
      this.#gone.delete(change.key); // written again since
    }
    const topic = topicOf(change.key);
    if (this.#index.add(topic, change.key) && change.value.state === "pending")
      for (const listener of this.#listeners) listener(topic, dueOfKey(change.key));
  }

  /** Waits for the index's first view of the bucket (at open, or NATS unreachable then). */
  async #indexed(): Promise<void> {
    if (this.#loaded) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SwitchyardError("engine_unavailable", "the scheduled events could not be read yet"),
          ),
        this.#deps.timeoutMs ?? 10_000,
      );
    });
    try {
      await Promise.race([this.#ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `key`, whose last write here was `revision`, is gone from the bucket. */
  #removed(topic: string, key: string, revision: number): void {
    this.#index.remove(topic, key);
    this.#gone.set(key, revision);
  }

  /** Sorted keys (due order for event keys). */
  async #keys(kind: string, prefix: string): Promise<string[]> {
    const keys =
      this.#deps.keys === undefined
        ? (await this.#deps.catalog.list(kind, prefix)).map((e) => e.key)
        : await this.#deps.keys(kind, prefix);
    return [...keys].sort();
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
    await this.#indexed();
    if (this.#index.count(topic) + events.length > MAX_PENDING_PER_TOPIC)
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
      this.#gone.delete(ref);
      this.#index.add(topic, ref);
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

  /**
   * Reads the bucket, not the index: a page shows what every node has accepted by now. A
   * page may hold fewer than `limit` (events being appended are left out).
   */
  async list(topic: string, limit: number, after: string | null): Promise<ScheduledPage> {
    await this.#requireTopic(topic);
    const from = after === null ? null : Buffer.from(after, "base64url").toString();
    if (from !== null && !from.startsWith(`${topicKey(topic)}.`))
      throw new SwitchyardError("invalid_request", "after: not a page token of this list", {
        errors: [{ pointer: "query:after", message: "is not a page token of this list" }],
      });
    const all = await this.#keys(EVENTS, `${topicKey(topic)}.`);
    const rest = from === null ? all : all.filter((k) => k > from);
    // A `firing` record is as good as in the log (a cancel answers not_found).
    const page = (await this.#records(rest.slice(0, limit))).filter(
      (e) => pendingOf(e).state === "pending",
    );
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
    this.#removed(topic, only.event.key, only.event.revision);
    await catalog
      .delete(IDS, only.claim.key, { expectedRevision: only.claim.revision })
      .catch(() => undefined);
    return "cancelled";
  }

  async due(): Promise<ReadonlyMap<string, number>> {
    await this.#indexed();
    return this.#index.earliestAll();
  }

  onDue(listener: (topic: string, deliverAt: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async prune(): Promise<void> {
    const { erase, now } = this.#deps;
    if (erase === undefined) return;
    await this.#markers.prune(now(), (m) => erase(m.kind, m.key, m.revision));
  }

  /** Delete markers this node knows of and has not erased (tests, diagnostics). */
  get markers(): number {
    return this.#markers.pending;
  }

  async fire(topic: string, now: number, limit: number): Promise<FireResult> {
    await this.#indexed();
    const { keys: dueKeys, next: later } = this.#index.take(topic, now, limit);
    const records = await this.#records(dueKeys);
    const found = new Set(records.map((e) => e.key));
    // Fired or cancelled elsewhere, the watch has not said so yet.
    for (const key of dueKeys) if (!found.has(key)) this.#index.remove(topic, key);
    const due = records.filter((e) => pendingOf(e).deliverAt <= now);
    const claims = await Promise.all(due.map((entry) => this.#claimFiring(entry)));
    const claimed = claims.filter((e): e is CatalogEntry => e !== null);
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
    // Not stored: left `firing`, retried once stale.
    const appended = claimed.filter((_, i) => stored[i] === true);
    for (const entry of appended) this.#removed(topic, entry.key, entry.revision);
    // The records go in the background: the next firing need not wait for them.
    const finishing = Promise.all(appended.map((entry) => this.#finish(topic, entry))).then(
      () => undefined,
    );
    this.#finishing.add(finishing);
    void finishing.finally(() => this.#finishing.delete(finishing));
    return { fired: appended.length, next: nextAfter(appended.length) };
  }

  /** Moves a due record to `firing`; null when cancelled, or claimed by another firing. */
  async #claimFiring(entry: CatalogEntry): Promise<CatalogEntry | null> {
    const v = pendingOf(entry);
    const at = this.#deps.now();
    if (v.state === "firing" && at - (v.firingAt ?? 0) < STALE_FIRING_MS) return null;
    try {
      const revision = await this.#deps.catalog.put(
        EVENTS,
        entry.key,
        { ...v, state: "firing", firingAt: at },
        { expectedRevision: entry.revision },
      );
      return { ...entry, revision };
    } catch (error) {
      if (isConflict(error)) return null;
      throw error;
    }
  }

  /** Resolves once the records of every appended event are removed (or failed to be). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#finishing]);
  }

  /**
   * Removes an appended event's records. One that cannot be deleted now (the store away)
   * goes back into the index, `firing`: a firing takes it up again once stale, and the
   * message id keeps the second append out of the log.
   */
  async #finish(topic: string, entry: CatalogEntry): Promise<void> {
    const { catalog } = this.#deps;
    const v = pendingOf(entry);
    const [deleted, claim] = await Promise.all([
      catalog.delete(EVENTS, entry.key).then(
        () => true,
        () => false,
      ),
      catalog.get(IDS, idKey(topic, v.source, v.id)).catch(() => null),
    ]);
    if (!deleted) {
      this.#gone.delete(entry.key);
      this.#index.add(topic, entry.key);
      return;
    }
    if (claim !== null && claim.value.ref === entry.key)
      await catalog
        .delete(IDS, claim.key, { expectedRevision: claim.revision })
        .catch(() => undefined);
  }

  /** Drops every pending event of a deleted topic. */
  async drop(topic: string): Promise<void> {
    this.#index.dropTopic(topic);
    const { catalog } = this.#deps;
    for (const kind of [EVENTS, IDS])
      for (const entry of await catalog.list(kind, `${topicKey(topic)}.`))
        await catalog.delete(kind, entry.key).catch(() => undefined);
  }
}
