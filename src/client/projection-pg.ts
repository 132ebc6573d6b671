import type { PgPoolClientLike, PgPoolLike } from "./inbox.js";
import {
  checkTables,
  type ProjectionStore,
  type ProjectionStoreOptions,
  resolveNames,
  type StoreDriver,
  type StoreSession,
  tableOf,
} from "./projection-store.js";

/** A PostgreSQL handler's transaction: a client the pool lent, inside BEGIN. */
export interface PgProjectionTx {
  /** `{orders}` in `sql` stands for the physical table being written; parameters are `$1`… */
  run(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ readonly rowCount: number | null; readonly rows: readonly unknown[] }>;
  /** The physical name of a logical table in the generation being written. */
  table(logical: string): string;
  /** The pool's client (annotate it as `pg.PoolClient` for pg's full type). */
  readonly client: PgPoolClientLike;
}

/** `?` → `$1`, `$2`…: the shared statements are written with `?` and contain no other `?`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A projection store on a `pg` Pool (an optional peer dependency: the SDK never imports it). */
export function pgProjectionStore(
  pool: PgPoolLike,
  options: ProjectionStoreOptions,
): ProjectionStore<PgProjectionTx> {
  const tables = checkTables(options.tables);
  let live = 1;
  const driver: StoreDriver<PgProjectionTx> = {
    dialect: "pg",
    async transaction(fn, transactionOptions = {}) {
      const client = await pool.connect();
      let broken: Error | undefined;
      const session: StoreSession = {
        all: async (sql, params = []) =>
          (await client.query(numbered(sql), [...params])).rows as Record<string, unknown>[],
        run: async (sql, params = []) =>
          (await client.query(numbered(sql), [...params])).rowCount ?? 0,
        exec: async (sql) => {
          await client.query(sql);
        },
      };
      const txFor = (generation: number): PgProjectionTx => ({
        run: (sql, params = []) => client.query(resolveNames(sql, tables, generation), [...params]),
        table: (logical) => tableOf(tables, logical, generation),
        client,
      });
      try {
        await client.query("BEGIN");
        try {
          if (transactionOptions.durable === false)
            await client.query("SET LOCAL synchronous_commit = off");
          const result = await fn(session, txFor);
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch((rollback: unknown) => {
            broken = rollback instanceof Error ? rollback : new Error(String(rollback));
          });
          throw error;
        }
      } finally {
        client.release(broken);
      }
    },
  };
  return {
    kind: "pg",
    tables,
    table: (logical) => tableOf(tables, logical, live),
    internal: {
      driver,
      ddl: options.tables,
      setLive: (generation) => {
        live = generation;
      },
    },
  };
}
