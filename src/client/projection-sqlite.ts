import type {
  DatabaseSync,
  SQLInputValue,
  SQLOutputValue,
  StatementResultingChanges,
  StatementSync,
} from "node:sqlite";
import {
  type ProjectionStore,
  type ProjectionStoreOptions,
  projectionStore,
  resolveNames,
  type StoreDriver,
  type StoreSession,
  tableOf,
} from "./projection-store.js";

/** A SQLite handler's transaction: statements run on the store's connection, inside BEGIN IMMEDIATE. */
export interface SqliteProjectionTx {
  /** `{orders}` in `sql` stands for the physical table being written. */
  run(sql: string, params?: readonly SQLInputValue[]): StatementResultingChanges;
  all(sql: string, params?: readonly SQLInputValue[]): Record<string, SQLOutputValue>[];
  get(sql: string, params?: readonly SQLInputValue[]): Record<string, SQLOutputValue> | undefined;
  /** The physical name of a logical table in the generation being written. */
  table(logical: string): string;
  readonly db: DatabaseSync;
}

const CACHED_STATEMENTS = 256;

/**
 * A projection store on a `node:sqlite` DatabaseSync. Give it a connection of its own (WAL
 * mode lets other connections read the views meanwhile): its transactions are open while
 * handlers run, and statements of others on that connection would join them.
 */
export function sqliteProjectionStore(
  db: DatabaseSync,
  options: ProjectionStoreOptions,
): ProjectionStore<SqliteProjectionTx> {
  return projectionStore<SqliteProjectionTx>("sqlite", options, (tables) => {
    const statements = new Map<string, StatementSync>();
    const prepare = (sql: string): StatementSync => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        // Names of dropped generations never come back: a full cache is simply emptied.
        if (statements.size >= CACHED_STATEMENTS) statements.clear();
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    };
    const session: StoreSession = {
      all: async (sql, params = []) => prepare(sql).all(...(params as SQLInputValue[])),
      run: async (sql, params = []) =>
        Number(prepare(sql).run(...(params as SQLInputValue[])).changes),
      exec: async (sql) => {
        statements.clear();
        db.exec(sql);
      },
    };
    const txFor = (generation: number): SqliteProjectionTx => ({
      run: (sql, params = []) => prepare(resolveNames(sql, tables, generation)).run(...params),
      all: (sql, params = []) => prepare(resolveNames(sql, tables, generation)).all(...params),
      get: (sql, params = []) => prepare(resolveNames(sql, tables, generation)).get(...params),
      table: (logical) => tableOf(tables, logical, generation),
      db,
    });
    const synchronousNow = (): number =>
      Number(
        (db.prepare("PRAGMA synchronous").get() as { synchronous?: unknown }).synchronous ?? 2,
      );
    // One connection, one transaction at a time: handlers that await would otherwise run
    // their statements inside each other's transactions.
    let queue: Promise<unknown> = Promise.resolve();
    const driver: StoreDriver<SqliteProjectionTx> = {
      dialect: "sqlite",
      transaction(fn, transactionOptions = {}) {
        const run = async () => {
          // Only outside a transaction can the setting change; the queue keeps it to this one.
          const relaxed = transactionOptions.durable === false ? synchronousNow() : undefined;
          if (relaxed !== undefined && relaxed > 1) db.exec("PRAGMA synchronous = NORMAL");
          try {
            db.exec("BEGIN IMMEDIATE");
            try {
              const result = await fn(session, txFor);
              db.exec("COMMIT");
              return result;
            } catch (error) {
              if (db.isTransaction) db.exec("ROLLBACK");
              throw error;
            }
          } finally {
            if (relaxed !== undefined && relaxed > 1) db.exec(`PRAGMA synchronous = ${relaxed}`);
          }
        };
        const next = queue.then(run, run);
        queue = next.catch(() => {});
        return next;
      },
    };
    return driver;
  });
}
