import type { PgPoolClientLike, PgPoolLike } from "./inbox.js";
import { inPgTransaction } from "./pg-transaction.js";
import {
  type ProjectionStore,
  type ProjectionStoreOptions,
  projectionStore,
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
  return projectionStore<PgProjectionTx>("pg", options, (tables) => {
    const driver: StoreDriver<PgProjectionTx> = {
      dialect: "pg",
      transaction: (fn, transactionOptions = {}) =>
        inPgTransaction(pool, async (client) => {
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
            run: (sql, params = []) =>
              client.query(resolveNames(sql, tables, generation), [...params]),
            table: (logical) => tableOf(tables, logical, generation),
            client,
          });
          if (transactionOptions.durable === false)
            await client.query("SET LOCAL synchronous_commit = off");
          return fn(session, txFor);
        }),
    };
    return driver;
  });
}
