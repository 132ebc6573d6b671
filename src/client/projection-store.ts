/**
 * What the projection stores share: the generation of physical tables each logical table
 * resolves to, the checkpoint rows, and the SQL over them, written once for both dialects
 * (`?` placeholders; the PostgreSQL driver numbers them).
 */
import type { StoredEvent } from "../core/event.js";
import { clientError } from "./errors.js";

/** Shared by every projection of one database: one row per projection, one per checkpoint. */
export const PROJECTIONS_TABLE = "switchyard_projections";
export const CHECKPOINTS_TABLE = "switchyard_projection_checkpoints";
/** The advisory lock key projection opens take on PostgreSQL ("SYPJ"). */
const OPEN_LOCK = 0x5359_504a;

/** The statements of one database transaction the store runs for the projection. */
export interface StoreSession {
  all(sql: string, params?: readonly unknown[]): Promise<readonly Record<string, unknown>[]>;
  /** Answers the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** DDL, no parameters. */
  exec(sql: string): Promise<void>;
}

/** What a store does for `projection()`: transactions, and the handler's `tx` for a generation. */
export interface StoreDriver<Tx> {
  readonly dialect: "sqlite" | "pg";
  /**
   * Runs `fn` in one transaction, committed when it resolves and rolled back when it throws.
   * `txFor(generation)` is the handler's transaction handle, resolving names to that generation.
   */
  transaction<R>(
    fn: (session: StoreSession, txFor: (generation: number) => Tx) => Promise<R>,
    options?: TransactionOptions,
  ): Promise<R>;
}

export interface TransactionOptions {
  /**
   * False: the commit need not reach the disk before it answers (SQLite's synchronous NORMAL,
   * PostgreSQL's synchronous_commit off); a later durable commit on the database makes it so.
   */
  readonly durable?: boolean;
}

/** `CREATE TABLE` statements per logical table; `{name}` stands for its physical name. */
export type ProjectionTables = Readonly<Record<string, string | readonly string[]>>;

export interface ProjectionStoreOptions {
  readonly tables: ProjectionTables;
}

/**
 * A read model's tables in one database. `table("orders")` is the physical table the live
 * generation writes (`orders__r<N>`); a view named `orders` always selects from it.
 */
export interface ProjectionStore<Tx> {
  readonly kind: "sqlite" | "pg";
  /** The logical table names. */
  readonly tables: readonly string[];
  /** The live physical name of a logical table, as this process last saw it. */
  table(logical: string): string;
  /** Used by `projection()`. */
  readonly internal: StoreInternals<Tx>;
}

export interface StoreInternals<Tx> {
  readonly driver: StoreDriver<Tx>;
  readonly ddl: ProjectionTables;
  /** Records the live generation this process last read (what `table()` answers). */
  setLive(generation: number): void;
}

const LOGICAL = /^[a-z_][a-z0-9_]{0,39}$/;

export function checkTables(tables: ProjectionTables): readonly string[] {
  const names = Object.keys(tables);
  if (names.length === 0) throw new TypeError("a projection store needs at least one table");
  for (const name of names)
    if (!LOGICAL.test(name))
      throw new TypeError(
        `projection table ${JSON.stringify(name)} must be lower-case letters, digits and _ (at most 40)`,
      );
  return names;
}

export function physicalName(logical: string, generation: number): string {
  return `${logical}__r${generation}`;
}

/** Replaces `{logical}` of the declared tables with their physical names; other braces stay. */
export function resolveNames(sql: string, tables: readonly string[], generation: number): string {
  return sql.replace(/\{([a-z_][a-z0-9_]*)\}/g, (whole, name: string) =>
    tables.includes(name) ? physicalName(name, generation) : whole,
  );
}

/** Resolves `logical` for generation `generation`, refusing names the store does not declare. */
export function tableOf(tables: readonly string[], logical: string, generation: number): string {
  if (!tables.includes(logical))
    throw new TypeError(
      `${JSON.stringify(logical)} is not a table of this projection store (${tables.join(", ")})`,
    );
  return physicalName(logical, generation);
}

/** The part of a store that is the same on every database: its tables and the live generation. */
export function projectionStore<Tx>(
  kind: ProjectionStore<Tx>["kind"],
  options: ProjectionStoreOptions,
  driver: (tables: readonly string[]) => StoreDriver<Tx>,
): ProjectionStore<Tx> {
  const tables = checkTables(options.tables);
  let live = 1;
  return {
    kind,
    tables,
    table: (logical) => tableOf(tables, logical, live),
    internal: {
      driver: driver(tables),
      ddl: options.tables,
      setLive: (generation) => {
        live = generation;
      },
    },
  };
}

export interface Generations {
  readonly live: number;
  readonly building: number | null;
}

function metaDdl(dialect: "sqlite" | "pg"): string[] {
  const rowid = dialect === "sqlite" ? " WITHOUT ROWID" : "";
  const int = dialect === "sqlite" ? "INTEGER" : "bigint";
  return [
    `CREATE TABLE IF NOT EXISTS ${PROJECTIONS_TABLE} (name TEXT PRIMARY KEY,
       generation ${int} NOT NULL, building ${int})${rowid}`,
    // `position` is the offset of the last event applied for `key`: "k:<partitionkey>" under
    // key ordering, else "o:<offset>", one row per applied event.
    `CREATE TABLE IF NOT EXISTS ${CHECKPOINTS_TABLE} (projection TEXT NOT NULL,
       generation ${int} NOT NULL, key TEXT NOT NULL, position ${int} NOT NULL,
       PRIMARY KEY (projection, generation, key))${rowid}`,
  ];
}

async function readRow(
  session: StoreSession,
  dialect: "sqlite" | "pg",
  name: string,
  lock: "" | "share" | "update",
): Promise<Generations | undefined> {
  const clause = dialect === "pg" && lock !== "" ? ` FOR ${lock.toUpperCase()}` : "";
  const rows = await session.all(
    `SELECT generation, building FROM ${PROJECTIONS_TABLE} WHERE name = ?${clause}`,
    [name],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    live: Number(row.generation),
    building: row.building === null ? null : Number(row.building),
  };
}

async function createGeneration(
  session: StoreSession,
  ddl: ProjectionTables,
  generation: number,
): Promise<void> {
  const tables = Object.keys(ddl);
  for (const statements of Object.values(ddl))
    for (const statement of typeof statements === "string" ? [statements] : statements)
      await session.exec(resolveNames(statement, tables, generation));
}

async function dropGeneration(
  session: StoreSession,
  tables: readonly string[],
  generation: number,
): Promise<void> {
  for (const table of tables)
    await session.exec(`DROP TABLE IF EXISTS ${physicalName(table, generation)}`);
}

async function pointViews(
  session: StoreSession,
  tables: readonly string[],
  generation: number,
): Promise<void> {
  for (const table of tables) {
    await session.exec(`DROP VIEW IF EXISTS ${table}`);
    await session.exec(`CREATE VIEW ${table} AS SELECT * FROM ${physicalName(table, generation)}`);
  }
}

/**
 * Creates the shared tables and, for a new projection, generation 1 and its views. Leaves
 * any rebuild in progress alone (its own process may be running it).
 */
export async function openProjection<Tx>(
  store: ProjectionStore<Tx>,
  name: string,
): Promise<Generations> {
  const { driver, ddl } = store.internal;
  const generations = await driver.transaction(async (session) => {
    // PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against itself in a concurrent
    // session (a duplicate pg_type row): opens take turns, for the transaction only.
    if (driver.dialect === "pg") await session.all(`SELECT pg_advisory_xact_lock(${OPEN_LOCK})`);
    for (const statement of metaDdl(driver.dialect)) await session.exec(statement);
    const found = await readRow(session, driver.dialect, name, "update");
    if (found) return found;
    // Two processes opening a new projection at once: the second waits on the first's row,
    // then finds it.
    const inserted = await session.run(
      `INSERT INTO ${PROJECTIONS_TABLE} (name, generation, building) VALUES (?, 1, NULL)
         ON CONFLICT DO NOTHING`,
      [name],
    );
    if (inserted === 0) {
      const other = await readRow(session, driver.dialect, name, "update");
      if (!other) throw new Error(`projection ${name}: its row vanished while opening`);
      return other;
    }
    await createGeneration(session, ddl, 1);
    await pointViews(session, store.tables, 1);
    return { live: 1, building: null };
  });
  store.internal.setLive(generations.live);
  return generations;
}

/** The highest offset applied to `generation`: the projection's checkpoint. */
export async function highestApplied<Tx>(
  store: ProjectionStore<Tx>,
  name: string,
  generation: number,
): Promise<number> {
  return store.internal.driver.transaction(async (session) => {
    const rows = await session.all(
      `SELECT MAX(position) AS top FROM ${CHECKPOINTS_TABLE} WHERE projection = ? AND generation = ?`,
      [name, generation],
    );
    return Number(rows[0]?.top ?? 0);
  });
}

/**
 * Starts a rebuild: drops what an unfinished earlier rebuild left (answering its generation,
 * so its temporary subscription can go too), creates the next generation's tables, marks it
 * as building.
 */
export async function beginGeneration<Tx>(
  store: ProjectionStore<Tx>,
  name: string,
): Promise<{ readonly building: number; readonly abandoned: number | null }> {
  const { driver, ddl } = store.internal;
  return driver.transaction(async (session) => {
    const row = await readRow(session, driver.dialect, name, "update");
    if (!row) throw new Error(`projection ${name} is not open`);
    if (row.building !== null) {
      await dropGeneration(session, store.tables, row.building);
      await session.run(
        `DELETE FROM ${CHECKPOINTS_TABLE} WHERE projection = ? AND generation = ?`,
        [name, row.building],
      );
    }
    const building = Math.max(row.live, row.building ?? 0) + 1;
    await createGeneration(session, ddl, building);
    await session.run(`UPDATE ${PROJECTIONS_TABLE} SET building = ? WHERE name = ?`, [
      building,
      name,
    ]);
    return { building, abandoned: row.building };
  });
}

/**
 * Makes `building` live, in one transaction, if it has applied everything the live
 * generation has (at or above `floor`, the first offset the rebuild could see); answers
 * false, changing nothing, while it has not. Live transactions hold the projection's row
 * shared, so none runs between the check and the swap.
 */
export async function swapGeneration<Tx>(
  store: ProjectionStore<Tx>,
  name: string,
  building: number,
  floor: number,
): Promise<boolean> {
  const { driver } = store.internal;
  const swapped = await driver.transaction(async (session) => {
    const row = await readRow(session, driver.dialect, name, "update");
    if (row?.building !== building)
      throw clientError("conflict", `the rebuild of projection ${name} was superseded`);
    const missing = await session.all(
      `SELECT 1 AS missing FROM ${CHECKPOINTS_TABLE} l WHERE l.projection = ? AND l.generation = ?
         AND l.position >= ? AND NOT EXISTS (SELECT 1 FROM ${CHECKPOINTS_TABLE} r
           WHERE r.projection = l.projection AND r.generation = ? AND r.key = l.key
             AND r.position >= l.position) LIMIT 1`,
      [name, row.live, floor, building],
    );
    if (missing.length > 0) return null;
    await pointViews(session, store.tables, building);
    await dropGeneration(session, store.tables, row.live);
    await session.run(
      `UPDATE ${PROJECTIONS_TABLE} SET generation = ?, building = NULL WHERE name = ?`,
      [building, name],
    );
    return row.live;
  });
  if (swapped === null) return false;
  store.internal.setLive(building);
  // The old generation's checkpoints are garbage now (nothing reads them): a crash before
  // this leaves rows that only cost space, removed by the next swap.
  await driver.transaction((session) =>
    session.run(
      `DELETE FROM ${CHECKPOINTS_TABLE} WHERE projection = ? AND generation <> ? AND generation <= ?`,
      [name, building, swapped],
    ),
  );
  return true;
}

interface Mark {
  readonly key: string;
  readonly keyed: boolean;
  readonly offset: number;
}

/**
 * Under key ordering the key's row moves forward only (a redelivery changes nothing);
 * otherwise the event's own row is inserted once.
 */
function markOf(event: StoredEvent, perKey: boolean): Mark {
  const partitionkey = event.partitionkey;
  return perKey && typeof partitionkey === "string"
    ? { key: `k:${partitionkey}`, keyed: true, offset: event.offset }
    : { key: `o:${event.offset}`, keyed: false, offset: event.offset };
}

/** Records `marks`, answering those that took as `key@offset` (an event once, in a batch too). */
async function markAll(
  session: StoreSession,
  name: string,
  generation: number,
  marks: readonly Mark[],
): Promise<Set<string>> {
  const taken = new Set<string>();
  // A key twice in one batch (a redelivery beside the original) cannot go in one upsert:
  // those go one by one, in order, and the first one takes it.
  const seen = new Set<string>();
  const batched: Mark[] = [];
  const alone: Mark[] = [];
  for (const mark of marks) {
    (seen.has(mark.key) ? alone : batched).push(mark);
    seen.add(mark.key);
  }
  for (const keyed of [true, false]) {
    const group = batched.filter((mark) => mark.keyed === keyed);
    if (group.length === 0) continue;
    const rows = await session.all(
      `${markSql(keyed, group.length)} RETURNING key, position`,
      group.flatMap((mark) => [name, generation, mark.key, mark.offset]),
    );
    for (const row of rows) taken.add(`${String(row.key)}@${Number(row.position)}`);
  }
  for (const mark of alone)
    if ((await session.run(markSql(mark.keyed, 1), [name, generation, mark.key, mark.offset])) > 0)
      taken.add(`${mark.key}@${mark.offset}`);
  return taken;
}

function markSql(keyed: boolean, rows: number): string {
  const values = Array.from({ length: rows }, () => "(?, ?, ?, ?)").join(", ");
  return keyed
    ? `INSERT INTO ${CHECKPOINTS_TABLE} AS c (projection, generation, key, position)
         VALUES ${values} ON CONFLICT (projection, generation, key)
         DO UPDATE SET position = excluded.position WHERE c.position < excluded.position`
    : `INSERT INTO ${CHECKPOINTS_TABLE} (projection, generation, key, position)
         VALUES ${values} ON CONFLICT DO NOTHING`;
}

export type Target = { readonly kind: "live" } | { readonly kind: "building"; generation: number };

export type ApplyOutcome = "applied" | "skipped";

/**
 * Applies `events` in one transaction: each one not applied before to the target generation
 * runs `handle` and records its checkpoint, so the read model and the checkpoint commit
 * together. Under key ordering an event with a `partitionkey` counts as applied when its
 * key's checkpoint has reached its offset (the router hands out a key's next event only after
 * this one is acked); every other event is recorded by its own offset.
 */
export async function applyEvents<Tx>(
  store: ProjectionStore<Tx>,
  name: string,
  target: Target,
  perKey: boolean,
  events: readonly StoredEvent[],
  handle: (event: StoredEvent, tx: Tx) => unknown,
): Promise<{ readonly generation: number; readonly outcomes: ApplyOutcome[] }> {
  const { driver } = store.internal;
  const result = await driver.transaction(
    async (session, txFor) => {
      const row = await readRow(session, driver.dialect, name, "share");
      if (!row) throw new Error(`projection ${name} is not open`);
      let generation = row.live;
      if (target.kind === "building") {
        if (row.building !== target.generation)
          throw clientError("conflict", `the rebuild of projection ${name} was superseded`);
        generation = target.generation;
      }
      const tx = txFor(generation);
      const marks = events.map((event) => markOf(event, perKey));
      // The marks go first and the handlers' writes after them: all commit or none. One
      // statement per kind marks the whole batch, answering the marks that took.
      const taken = await markAll(session, name, generation, marks);
      const outcomes: ApplyOutcome[] = [];
      for (const [i, event] of events.entries()) {
        const mark = marks[i];
        if (mark === undefined || !taken.delete(`${mark.key}@${mark.offset}`)) {
          outcomes.push("skipped");
          continue;
        }
        await handle(event, tx);
        outcomes.push("applied");
      }
      return { generation, outcomes };
      // A rebuild's commits need not be durable one by one: what a crash (even a power loss)
      // takes of them belongs to a generation no one reads, which the next rebuild drops and
      // replays, and the swap's own durable commit flushes all of them before it goes live.
    },
    { durable: target.kind === "live" },
  );
  if (target.kind === "live") store.internal.setLive(result.generation);
  return result;
}
