/**
 * The one SQLite connection of an engine, with its pragmas and a prepared-statement cache.
 * Every module of this folder runs its SQL through `Db.stmt`, so each statement is prepared
 * once per connection and lives next to the code that uses it.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";

export type SqlValue = SQLInputValue;
export type Row = Record<string, unknown>;

export interface DbOptions {
  readonly path: string;
  readonly fsync: "always" | "interval";
}

export class Db {
  readonly #raw: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(options: DbOptions) {
    this.#raw = new DatabaseSync(options.path, { timeout: 5_000 });
    this.#configure(options.fsync);
  }

  #configure(fsync: "always" | "interval"): void {
    // auto_vacuum only takes effect before the first table exists, so it is set on every open:
    // a no-op on an existing store, and the right mode on a new one.
    this.#raw.exec("PRAGMA auto_vacuum = INCREMENTAL");
    this.#raw.exec("PRAGMA journal_mode = WAL");
    // FULL: the WAL is fsync'd at every commit. NORMAL: only at checkpoints (see sqlite-engine.ts
    // for the loss window); a process crash loses nothing in either mode, only an OS crash can.
    this.#raw.exec(`PRAGMA synchronous = ${fsync === "always" ? "FULL" : "NORMAL"}`);
    // 16 MiB: the hot pages are the log's tail and the delivery rows of recent leases; the OS
    // page cache serves the rest. SQLite frees cache pages back to malloc, which keeps them,
    // so whatever this allows stays resident after a burst (64 MiB cost ~60 MiB of idle RSS
    // with no measurable gain in publish or lease CPU: docs/benchmarks.md, cost of scale).
    this.#raw.exec("PRAGMA cache_size = -16384");
    this.#raw.exec("PRAGMA temp_store = MEMORY");
    this.#raw.exec("PRAGMA journal_size_limit = 67108864");
    // Checkpoints run on the checkpoint thread (checkpointer.ts); this is only a backstop.
    this.#raw.exec("PRAGMA wal_autocheckpoint = 16384");
  }

  stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#raw.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  exec(sql: string): void {
    this.#raw.exec(sql);
  }

  run(sql: string, ...params: SqlValue[]): number {
    return Number(this.stmt(sql).run(...params).changes);
  }

  get<T extends Row>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  all<T extends Row>(sql: string, ...params: SqlValue[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  iterate<T extends Row>(sql: string, ...params: SqlValue[]): IterableIterator<T> {
    return this.stmt(sql).iterate(...params) as IterableIterator<T>;
  }

  /** The single integer of a one-column query (0 when there is no row or it is NULL). */
  value(sql: string, ...params: SqlValue[]): number {
    const row = this.stmt(sql).get(...params);
    if (row === undefined) return 0;
    const first = Object.values(row)[0];
    return typeof first === "number" ? first : Number(first ?? 0);
  }

  get isOpen(): boolean {
    return this.#raw.isOpen;
  }

  get inTransaction(): boolean {
    return this.#raw.isTransaction;
  }

  close(): void {
    this.#statements.clear();
    if (this.#raw.isOpen) this.#raw.close();
  }
}
