import type { DatabaseSync } from "node:sqlite";
import { inPgTransaction } from "./pg-transaction.js";
import { type PgQueryable, quoteTable } from "./sql-names.js";

/** A client a pool lent: `query`, and `release` to give it back. */
export interface PgPoolClientLike extends PgQueryable {
  release(error?: Error | boolean): void;
}

/**
 * What the inbox needs of a `pg` Pool: a client to run one transaction on. (The handler's
 * `tx` is that client; annotate it as `pg.PoolClient` to get pg's full type.)
 */
export interface PgPoolLike {
  connect(): Promise<PgPoolClientLike>;
}

/** The event an inbox deduplicates on: the router's own key, `source` and `id`. */
export interface InboxEvent {
  readonly id: string;
  readonly source: string;
}

export type InboxResult<R> =
  | { readonly duplicate: false; readonly result: R }
  | { readonly duplicate: true };

export interface Inbox<Tx> {
  /** Creates the inbox table if missing (`handle` does it on first use too). */
  init(): Promise<void>;
  /**
   * Runs `handler` in a transaction that also records `event` as processed, and commits both
   * or neither. An event recorded before is not handled again: `{ duplicate: true }`. A
   * handler that throws rolls back its writes and the mark, so a redelivery runs it again.
   */
  handle<R, T extends Tx = Tx>(
    event: InboxEvent,
    handler: (tx: T) => R | Promise<R>,
  ): Promise<InboxResult<R>>;
}

export interface InboxOptions {
  /** The table of processed events (default "inbox"). */
  readonly table?: string;
}

/**
 * An idempotent consumer: `inbox(pool)` for PostgreSQL (a `pg` Pool; the handler gets the
 * pool's client, inside BEGIN), `inbox(db)` for SQLite (a `node:sqlite` DatabaseSync; the
 * handler gets the same db, inside BEGIN IMMEDIATE).
 */
export function inbox(pool: PgPoolLike, options?: InboxOptions): Inbox<PgPoolClientLike>;
export function inbox(db: DatabaseSync, options?: InboxOptions): Inbox<DatabaseSync>;
export function inbox(
  db: PgPoolLike | DatabaseSync,
  options: InboxOptions = {},
): Inbox<PgPoolClientLike> | Inbox<DatabaseSync> {
  const table = quoteTable(options.table ?? "inbox");
  return "prepare" in db ? sqliteInbox(db, table) : pgInbox(db, table);
}

function pgInbox(pool: PgPoolLike, table: string): Inbox<PgPoolClientLike> {
  let ready: Promise<void> | undefined;
  const init = (): Promise<void> => {
    ready ??= pool.connect().then(async (client) => {
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${table} (source text NOT NULL, id text NOT NULL,
             processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (source, id))`,
        );
      } finally {
        client.release();
      }
    });
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };
  return {
    init,
    async handle(event, handler) {
      await init();
      return inPgTransaction(pool, async (client) => {
        // A concurrent handling of the same event waits here on the key until the first
        // commits (then finds it) or rolls back (then takes over).
        const mark = await client.query(
          `INSERT INTO ${table} (source, id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [event.source, event.id],
        );
        // Nothing was written: committing the empty transaction is as good as rolling it back.
        if (mark.rowCount === 0) return { duplicate: true };
        // The pool's own client type, as the caller's handler names it.
        const result = await handler(client as Parameters<typeof handler>[0]);
        return { duplicate: false, result };
      });
    },
  };
}

function sqliteInbox(db: DatabaseSync, table: string): Inbox<DatabaseSync> {
  let created = false;
  const init = async (): Promise<void> => {
    if (created) return;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (source TEXT NOT NULL, id TEXT NOT NULL,
         processed_at INTEGER NOT NULL, PRIMARY KEY (source, id)) WITHOUT ROWID`,
    );
    created = true;
  };
  // One connection, one transaction at a time: handlers that await would otherwise run
  // their statements inside each other's transactions.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    init,
    handle(event, handler) {
      const run = async (): Promise<InboxResult<Awaited<ReturnType<typeof handler>>>> => {
        await init();
        db.exec("BEGIN IMMEDIATE");
        try {
          const mark = db
            .prepare(
              `INSERT INTO ${table} (source, id, processed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
            )
            .run(event.source, event.id, Date.now());
          if (Number(mark.changes) === 0) {
            db.exec("ROLLBACK");
            return { duplicate: true };
          }
          const result = await handler(db as Parameters<typeof handler>[0]);
          db.exec("COMMIT");
          return { duplicate: false, result };
        } catch (error) {
          if (db.isTransaction) db.exec("ROLLBACK");
          throw error;
        }
      };
      const next = queue.then(run, run);
      queue = next.catch(() => {});
      return next;
    },
  };
}
