import pg from "pg";
import {
  type CertificateAuthority,
  createClient,
  type EventInput,
  type SwitchyardClient,
  SwitchyardClientError,
} from "../client/index.js";
import { SwitchyardError } from "../core/errors.js";
import { type OutboxNames, outboxNames, outboxSchemaSql } from "./schema.js";

export interface RelayOptions {
  /** PostgreSQL connection string of the application's database. */
  readonly postgres: string;
  /** The outbox table (default "outbox"). */
  readonly table?: string;
  /** The router to publish to. */
  readonly router: {
    readonly url: string;
    readonly apiKey?: string;
    readonly ca?: CertificateAuthority;
  };
  /** Publish rows that may have been sent longer ago than their topic's dedupe window. */
  readonly force?: boolean;
  /** Rows per published batch (default 500). */
  readonly batchSize?: number;
  /** Sleep between polls when the outbox is idle (default 50 ms). */
  readonly pollMs?: number;
  /** Warnings and notices, one line each (default: none). */
  readonly log?: (line: string) => void;
}

/** What a relay has done and how far behind it is. */
export interface RelayStatus {
  /** Rows published by this relay since it started (duplicates included). */
  readonly published: number;
  /** Of those, rows the router already had (sent before a restart; dropped by its dedupe). */
  readonly duplicates: number;
  /** Every row with an id up to this one is in the log. */
  readonly publishedTo: number;
  /** Committed rows not yet in the log. */
  readonly pending: number;
  /** Age of the oldest of them (ms), or null when none is pending. */
  readonly oldestPendingMs: number | null;
}

/** Why a relay would not start or go on; `reason` for callers that branch on it. */
export class RelayRefused extends SwitchyardError {
  readonly reason: "locked" | "stale";
  constructor(reason: "locked" | "stale", detail: string) {
    super("conflict", detail);
    this.name = "RelayRefused";
    this.reason = reason;
  }
}

interface Row {
  readonly row_id: string;
  readonly topic: string;
  readonly event: string;
}

/** The advisory lock's first key: "SY" — the second is the table name's hash. */
const LOCK_CLASS = 0x5359;
/** The router's default, used for topics it does not know yet (auto-created on publish). */
const DEFAULT_DEDUPE_WINDOW_MS = 300_000;
/** How long the relay waits before sending a batch again after a retryable failure. */
const RESEND_DELAY_MS = 1_000;

/** Creates the outbox table, its sequence and trigger, and the relay's state row (idempotent). */
export async function initOutbox(postgres: string, table = "outbox"): Promise<void> {
  const db = new pg.Client({ connectionString: postgres });
  await db.connect();
  try {
    await db.query(outboxSchemaSql(table));
  } finally {
    await db.end();
  }
}

/**
 * The outbox relay: publishes committed outbox rows to the router in id order, each once.
 *
 * One pass: read the sequence's last handed-out id M, then take an xid X of the relay's own;
 * wait until no transaction older than X is running (every transaction that could hold an
 * id ≤ M has ended: the table's trigger gives a transaction its xid before its id); then
 * every row with id ≤ M is visible or never will be, and the relay publishes them in id order
 * and moves its cursor to M. A row that commits after a higher id is therefore never skipped:
 * the cursor only ever passes ids whose transactions are over.
 */
export class OutboxRelay {
  readonly #db: pg.Client;
  readonly #names: OutboxNames;
  readonly #client: SwitchyardClient;
  readonly #options: RelayOptions;
  readonly #windows = new Map<string, number>();
  readonly #stopping = new AbortController();
  #published = 0;
  #duplicates = 0;
  #publishedTo = 0;
  #failure: unknown;
  #done: Promise<void> = Promise.resolve();

  private constructor(db: pg.Client, options: RelayOptions) {
    this.#db = db;
    this.#options = options;
    this.#names = outboxNames(options.table ?? "outbox");
    this.#client = createClient({
      url: options.router.url,
      source: "switchyard-outbox",
      ...(options.router.apiKey ? { apiKey: options.router.apiKey } : {}),
      ...(options.router.ca ? { ca: options.router.ca } : {}),
      // The relay resends a failed batch itself, forever; the SDK's own retries stay short.
      retry: { retries: 3, initialDelayMs: 100, maxDelayMs: 1_000 },
    });
  }

  /**
   * Connects, takes the table's advisory lock (refused while another relay holds it), checks
   * what a previous relay left in flight, and starts relaying. `done` settles when it stops.
   */
  static async start(options: RelayOptions): Promise<OutboxRelay> {
    const db = new pg.Client({ connectionString: options.postgres });
    await db.connect();
    const relay = new OutboxRelay(db, options);
    try {
      await relay.#lock();
      await relay.#checkInFlight();
    } catch (error) {
      await relay.#close();
      throw error;
    }
    // A lost connection is a lost lock: another relay may take over, so this one must stop.
    db.on("error", (error) => relay.#fail(error));
    relay.#done = relay.#run().finally(() => relay.#close());
    return relay;
  }

  /** Settles when the relay has stopped: resolves after `stop`, rejects on a failure. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Finishes the batch in hand, then releases the lock and closes. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#done.catch(() => {});
  }

  async status(): Promise<RelayStatus> {
    const { rows } = await this.#db.query<{ pending: string; oldest_ms: string | null }>(
      `SELECT count(*) AS pending, (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::bigint AS oldest_ms
         FROM ${this.#names.table} WHERE id > $1`,
      [this.#publishedTo],
    );
    const row = rows[0];
    return {
      published: this.#published,
      duplicates: this.#duplicates,
      publishedTo: this.#publishedTo,
      pending: Number(row?.pending ?? 0),
      oldestPendingMs: row?.oldest_ms == null ? null : Number(row.oldest_ms),
    };
  }

  async #lock(): Promise<void> {
    const { rows } = await this.#db.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked",
      [LOCK_CLASS, this.#names.table],
    );
    if (rows[0]?.locked !== true)
      throw new RelayRefused(
        "locked",
        `another relay holds the lock on ${this.#names.table} (one relay per outbox table)`,
      );
  }

  /**
   * Rows a previous relay may have sent without recording it (it stopped between the send and
   * the cursor update) are sent again: the router's dedupe drops them, but only inside the
   * topic's window. Past it they could land twice, so they are refused unless `force`.
   */
  async #checkInFlight(): Promise<void> {
    const { rows } = await this.#db.query<{
      published_to: string;
      sending_to: string;
      age_ms: string | null;
    }>(
      `SELECT published_to, sending_to,
              (extract(epoch FROM clock_timestamp() - sending_since) * 1000)::bigint AS age_ms
         FROM ${this.#names.state}`,
    );
    const state = rows[0];
    if (state === undefined)
      throw new RelayRefused(
        "stale",
        `${this.#names.state} has no row: run \`switchyard outbox init\` first`,
      );
    this.#publishedTo = Number(state.published_to);
    if (Number(state.sending_to) <= this.#publishedTo) return;
    const batch = await this.#rows(this.#publishedTo, Number(state.sending_to));
    await this.#refuseIfStale(batch, Number(state.age_ms ?? 0));
  }

  async #refuseIfStale(batch: readonly Row[], sentAgoMs: number): Promise<void> {
    if (this.#options.force === true || batch.length === 0) return;
    for (const topic of new Set(batch.map((row) => row.topic))) {
      const window = await this.#dedupeWindow(topic);
      if (sentAgoMs > window)
        throw new RelayRefused(
          "stale",
          `rows ${batch[0]?.row_id}..${batch.at(-1)?.row_id} of ${this.#names.table} may have been published ${Math.round(sentAgoMs / 1000)} s ago, longer than topic ${topic}'s dedupe window (${window / 1000} s): sending them again could duplicate them`,
        );
    }
  }

  /** The topic's dedupe window; waits out a router that does not answer (it cannot publish either). */
  async #dedupeWindow(topic: string): Promise<number> {
    const known = this.#windows.get(topic);
    if (known !== undefined) return known;
    for (;;) {
      try {
        const window = (await this.#client.admin.topics.get(topic)).dedupeWindowMs;
        this.#windows.set(topic, window);
        return window;
      } catch (error) {
        if (error instanceof SwitchyardClientError && error.code === "topic_not_found")
          return DEFAULT_DEDUPE_WINDOW_MS; // auto-created on publish, with the default
        if (!(error instanceof SwitchyardClientError && error.retryable)) throw error;
        if (this.#stopping.signal.aborted) return DEFAULT_DEDUPE_WINDOW_MS;
        this.#options.log?.(
          `outbox relay: reading topic ${topic} failed (${error.message}); retrying`,
        );
        await sleep(RESEND_DELAY_MS, this.#stopping.signal);
      }
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      if (this.#failure !== undefined) throw this.#failure;
      const horizon = await this.#horizon();
      if (horizon <= this.#publishedTo) {
        await sleep(this.#options.pollMs ?? 50, signal);
        continue;
      }
      while (this.#publishedTo < horizon && !signal.aborted) {
        const batch = await this.#rows(this.#publishedTo, horizon, this.#options.batchSize ?? 500);
        const to =
          batch.length < (this.#options.batchSize ?? 500) ? horizon : Number(batch.at(-1)?.row_id);
        if (batch.length > 0) await this.#send(batch, to);
        await this.#db.query(`UPDATE ${this.#names.state} SET published_to = $1`, [to]);
        this.#publishedTo = to;
      }
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * The highest id every row up to which is final: the sequence's last id, once every
   * transaction that was running when it was read has ended.
   */
  async #horizon(): Promise<number> {
    const last = await this.#db.query<{ id: string | null }>(
      "SELECT pg_sequence_last_value($1::regclass) AS id",
      [this.#names.sequence],
    );
    const id = Number(last.rows[0]?.id ?? 0);
    if (id <= this.#publishedTo) return this.#publishedTo;
    // A separate statement, after the sequence was read: an xid of its own, so higher than
    // that of every transaction that took an id up to `id`. (A snapshot's xmax would not do:
    // it is the latest *completed* xid + 1, and a running transaction may hold exactly it.)
    const mine = await this.#db.query<{ xid: string }>("SELECT pg_current_xact_id()::text AS xid");
    const xid = mine.rows[0]?.xid ?? "0";
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      const now = await this.#db.query<{ over: boolean }>(
        "SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS over",
        [xid],
      );
      if (now.rows[0]?.over === true) return id;
      if (this.#stopping.signal.aborted) return this.#publishedTo;
      await sleep(wait, this.#stopping.signal);
    }
  }

  async #rows(after: number, upTo: number, limit = 1_000_000): Promise<Row[]> {
    const { rows } = await this.#db.query<Row>(
      // Not `id::text AS id`: ORDER BY would then sort the text alias, not the bigint.
      `SELECT id::text AS row_id, topic, event::text AS event FROM ${this.#names.table}
        WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`,
      [after, upTo, limit],
    );
    return rows;
  }

  /**
   * Publishes `batch` (in id order; per topic one ordered call, so events of one key keep
   * their order), resending after retryable failures until it is all in the log.
   */
  async #send(batch: readonly Row[], to: number): Promise<void> {
    await this.#db.query(
      `UPDATE ${this.#names.state} SET sending_to = $1, sending_since = clock_timestamp()`,
      [to],
    );
    const firstTry = Date.now();
    const byTopic = new Map<string, EventInput[]>();
    for (const row of batch) {
      const events = byTopic.get(row.topic) ?? [];
      events.push(JSON.parse(row.event) as EventInput);
      byTopic.set(row.topic, events);
    }
    for (;;) {
      try {
        const results = await Promise.all(
          [...byTopic].map(([topic, events]) => this.#client.publish(topic, events)),
        );
        for (const result of results.flat()) {
          this.#published++;
          if (result.duplicate) this.#duplicates++;
        }
        return;
      } catch (error) {
        if (
          !(error instanceof SwitchyardClientError && error.retryable) ||
          this.#stopping.signal.aborted
        )
          throw error;
        this.#options.log?.(
          `outbox relay: publishing rows ${batch[0]?.row_id}..${to} failed (${error.message}); retrying`,
        );
        await sleep(RESEND_DELAY_MS, this.#stopping.signal);
        await this.#refuseIfStale(batch, Date.now() - firstTry);
      }
    }
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#stopping.abort();
  }

  async #close(): Promise<void> {
    await this.#client.close().catch(() => {});
    // Ending the session releases the advisory lock.
    await this.#db.end().catch(() => {});
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
