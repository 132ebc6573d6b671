import type { CloudEvent, StoredEvent } from "../core/event.js";
import type { AggregateStore, StreamPage } from "./aggregate.js";
import { SwitchyardClientError } from "./errors.js";
import type { PgPoolClientLike, PgPoolLike } from "./inbox.js";
import { createOutbox, type Outbox, type OutboxOptions } from "./outbox.js";
import { withPgClient } from "./pg-transaction.js";
import type { PublishResult } from "./publish-sender.js";
import { sleep } from "./retry.js";
import { quoteTable } from "./sql-names.js";

export interface PgAggregateStoreOptions {
  /** The events table (default "aggregate_events"), created on first use. */
  readonly table?: string;
  /**
   * Where each appended event is enqueued for the relay, in the append's transaction: an
   * `Outbox` (`createOutbox(...)`) or the options of one (default: the "outbox" table).
   */
  readonly outbox?: Outbox | OutboxOptions;
}

/** `pgAggregateStore`'s store, with `init` to create its table ahead of the first use. */
export interface PgAggregateStore<Tx extends PgPoolClientLike = PgPoolClientLike>
  extends AggregateStore<Tx> {
  init(): Promise<void>;
}

const DEFAULT_TABLE = "aggregate_events";
const UNIQUE_VIOLATION = "23505";

/**
 * The events table, idempotent (the store runs it on first use). One row per event; the
 * primary key is the expected-version check, the unique key on (topic, source, id) the
 * dedupe the router would do.
 */
export function pgAggregateStoreSql(table = DEFAULT_TABLE): string {
  const name = quoteTable(table);
  const last = table.split(".").at(-1) as string;
  return `CREATE TABLE IF NOT EXISTS ${name} (
  topic text NOT NULL,
  subject text NOT NULL,
  version bigint NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  source text NOT NULL,
  id text NOT NULL,
  event jsonb NOT NULL,
  appended_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "${last}_pkey" PRIMARY KEY (topic, subject, version),
  CONSTRAINT "${last}_event_key" UNIQUE (topic, source, id)
)`;
}

/**
 * An aggregate's streams in PostgreSQL through a `pg` Pool: `client.aggregate({ store })`.
 * An append inserts the decision at the next versions and `outbox.enqueue`s each event in
 * one transaction, so the relay publishes to the aggregate's topic exactly what the table
 * holds, with the same `id` and `source`. `Tx` is what `inTransaction` is given: the pool's
 * client inside BEGIN (name `pg.PoolClient` to get pg's full type).
 */
export function pgAggregateStore<Tx extends PgPoolClientLike = PgPoolClientLike>(
  pool: PgPoolLike,
  options: PgAggregateStoreOptions = {},
): PgAggregateStore<Tx> {
  const tableName = options.table ?? DEFAULT_TABLE;
  const table = quoteTable(tableName);
  const last = tableName.split(".").at(-1) as string;
  const ours = new Set([`${last}_pkey`, `${last}_event_key`]);
  const outbox =
    options.outbox !== undefined && "enqueue" in options.outbox
      ? options.outbox
      : createOutbox(options.outbox);

  let ready: Promise<void> | undefined;
  const init = (): Promise<void> => {
    ready ??= withPgClient(pool, async (client) => {
      await client.query(pgAggregateStoreSql(tableName));
    });
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };

  const head = async (db: PgPoolClientLike, topic: string, subject: string): Promise<number> => {
    const { rows } = await db.query(
      `SELECT coalesce(max(version), 0) AS head FROM ${table} WHERE topic = $1 AND subject = $2`,
      [topic, subject],
    );
    return Number((rows[0] as { head: unknown }).head);
  };

  const conflict = (current: number | undefined, detail: string, cause?: unknown) =>
    new SwitchyardClientError(
      {
        status: 409,
        code: "version_conflict",
        title: "Version conflict",
        detail,
        ...(current === undefined ? {} : { currentVersion: current }),
      },
      { cause },
    );

  return {
    init,
    async read(topic, subject, { fromVersion, limit }): Promise<StreamPage> {
      await init();
      return withPgClient(pool, async (client) => {
        // One statement, one snapshot: the head and the page agree.
        const { rows } = await client.query(
          `SELECT h.head, e.version, e.seq, e.event, e.appended_at
             FROM (SELECT coalesce(max(version), 0) AS head FROM ${table}
                    WHERE topic = $1 AND subject = $2) h
             LEFT JOIN LATERAL (SELECT version, seq, event, appended_at FROM ${table}
                    WHERE topic = $1 AND subject = $2 AND version >= $3
                    ORDER BY version LIMIT $4) e ON true`,
          [topic, subject, fromVersion, limit],
        );
        const typed = rows as readonly EventRow[];
        const events = typed
          .filter((row) => row.version !== null)
          .map((row) => storedOf(topic, row));
        return { events, version: Number(typed[0]?.head ?? 0), firstVersion: 1 };
      });
    },
    async append(topic, subject, events, expectedVersion, inTransaction) {
      await init();
      // A COMMIT whose answer was lost may have committed: the same events are sent again,
      // and the ids tell (a duplicate), as a publish sent again does on the router.
      for (let attempt = 1; ; attempt++) {
        try {
          return await appendOnce(topic, subject, events, expectedVersion, inTransaction);
        } catch (error) {
          if (!(error instanceof CommitUnknown)) throw error;
          if (attempt >= COMMIT_ATTEMPTS) throw error.cause;
          await sleep(COMMIT_RETRY_MS * attempt);
        }
      }
    },
  };

  function appendOnce(
    topic: string,
    subject: string,
    events: readonly CloudEvent[],
    expectedVersion: number,
    inTransaction: ((tx: Tx) => Promise<void>) | undefined,
  ): Promise<PublishResult[]> {
    return withPgClient(pool, async (client, broken) => {
      await client.query("BEGIN");
      try {
        const repeats = await repeated(client, table, topic, events);
        if (repeats.length === events.length) {
          await client.query("ROLLBACK");
          return repeats;
        }
        if (repeats.length > 0)
          throw new SwitchyardClientError({
            status: 409,
            code: "conflict",
            title: "Conflict",
            detail: `${repeats.length} of the decision's ${events.length} event ids are in ${topic}/${subject} already (an earlier decision used them): nothing appended`,
            duplicates: repeats,
          });
        const current = await head(client, topic, subject);
        if (current !== expectedVersion)
          throw conflict(
            current,
            `${topic}/${subject} is at version ${current}, not ${expectedVersion}`,
          );
        const results: PublishResult[] = [];
        let version = expectedVersion;
        for (const event of events) {
          version += 1;
          const { rows } = await client.query(
            `INSERT INTO ${table} (topic, subject, version, source, id, event)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq`,
            [topic, subject, version, event.source, event.id, JSON.stringify(event)],
          );
          await outbox.enqueue(client, { ...event, topic });
          const seq = Number((rows[0] as { seq: unknown }).seq);
          results.push({ id: event.id, offset: seq, duplicate: false, subjectVersion: version });
        }
        // The pool's own client type, as the caller's `inTransaction` names it.
        await inTransaction?.(client as Tx);
        try {
          await client.query("COMMIT");
        } catch (error) {
          // The server refusing the commit is an answer; a lost connection (no answer, or
          // the session ended) leaves the commit unknown.
          if (commitRefused(error)) throw error;
          broken(error);
          throw new CommitUnknown(error);
        }
        return results;
      } catch (error) {
        if (error instanceof CommitUnknown) throw error;
        let rolledBack = true;
        await client.query("ROLLBACK").catch((rollback: unknown) => {
          rolledBack = false;
          broken(rollback);
        });
        // Another writer's insert won the version (or the ids) while this one waited.
        if (rolledBack && isOurs(error, ours))
          throw conflict(
            await head(client, topic, subject).catch(() => undefined),
            `another writer appended to ${topic}/${subject} at version ${expectedVersion + 1} first`,
            error,
          );
        throw error;
      }
    });
  }
}

const COMMIT_ATTEMPTS = 3;
const COMMIT_RETRY_MS = 100;

/** A COMMIT sent on a connection that failed before it answered. */
class CommitUnknown extends Error {
  constructor(cause: unknown) {
    super("the connection failed before COMMIT answered", { cause });
  }
}

/** The server answered COMMIT with an error of the transaction's (not of the connection). */
function commitRefused(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    /^[0-9A-Z]{5}$/.test(code) &&
    !code.startsWith("08") && // connection exception
    !code.startsWith("57P") // the server shutting down or the session terminated
  );
}

interface EventRow {
  readonly head: unknown;
  readonly version: unknown;
  readonly seq: unknown;
  readonly event: CloudEvent;
  readonly appended_at: Date | string;
}

function storedOf(topic: string, row: EventRow): StoredEvent {
  const appendedat =
    row.appended_at instanceof Date ? row.appended_at.toISOString() : String(row.appended_at);
  return {
    ...row.event,
    topic,
    offset: Number(row.seq),
    appendedat,
    subjectversion: Number(row.version),
  };
}

/** The decision's events the table has already (same source and id), as duplicates. */
async function repeated(
  client: PgPoolClientLike,
  table: string,
  topic: string,
  events: readonly CloudEvent[],
): Promise<PublishResult[]> {
  const { rows } = await client.query(
    `SELECT t.id, t.source, t.version, t.seq FROM ${table} t
       JOIN unnest($2::text[], $3::text[]) AS d(source, id) USING (source, id)
      WHERE t.topic = $1`,
    [topic, events.map((e) => e.source), events.map((e) => e.id)],
  );
  const found = new Map(
    (rows as readonly { id: string; source: string; version: unknown; seq: unknown }[]).map(
      (row) => [`${row.source}\u0000${row.id}`, row],
    ),
  );
  return events.flatMap((event) => {
    const row = found.get(`${event.source}\u0000${event.id}`);
    return row === undefined
      ? []
      : [
          {
            id: event.id,
            offset: Number(row.seq),
            duplicate: true,
            subjectVersion: Number(row.version),
          },
        ];
  });
}

function isOurs(error: unknown, constraints: ReadonlySet<string>): boolean {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return code === UNIQUE_VIOLATION && typeof constraint === "string" && constraints.has(constraint);
}
