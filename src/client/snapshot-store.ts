import type { DatabaseSync } from "node:sqlite";
import { type PgQueryable, quoteTable } from "./sql-names.js";

/** A saved state of one aggregate instance: its state once the first `version` events are folded. */
export interface Snapshot<S> {
  readonly version: number;
  readonly state: S;
}

/**
 * Where an aggregate keeps snapshots of its states (API in docs/event-sourcing.md). `load`
 * answers the latest saved one or `undefined`; `save` replaces it. The aggregate checks a
 * snapshot against the stream before it trusts it, so a store never has to.
 */
export interface SnapshotStore<S> {
  load(topic: string, subject: string): Promise<Snapshot<S> | undefined>;
  save(topic: string, subject: string, version: number, state: S): Promise<void>;
}

export interface SnapshotStoreOptions {
  /** The snapshots table (default "aggregate_snapshots"), created on first use. */
  readonly table?: string;
}

const DEFAULT_TABLE = "aggregate_snapshots";

/**
 * Snapshots in a SQLite database (`node:sqlite`), one row per (topic, subject), the state
 * as JSON text. The database may be the application's own.
 */
export function sqliteSnapshotStore<S>(
  db: DatabaseSync,
  options: SnapshotStoreOptions = {},
): SnapshotStore<S> {
  const table = quoteTable(options.table ?? DEFAULT_TABLE);
  let created = false;
  const ensure = (): void => {
    if (created) return;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (topic TEXT NOT NULL, subject TEXT NOT NULL,
         version INTEGER NOT NULL, state TEXT NOT NULL, saved_at INTEGER NOT NULL,
         PRIMARY KEY (topic, subject)) WITHOUT ROWID`,
    );
    created = true;
  };
  return {
    async load(topic, subject) {
      ensure();
      const row = db
        .prepare(`SELECT version, state FROM ${table} WHERE topic = ? AND subject = ?`)
        .get(topic, subject);
      return row === undefined ? undefined : snapshotOf<S>(row.version, row.state);
    },
    async save(topic, subject, version, state) {
      ensure();
      const json = stateJson(state);
      // CAST: node:sqlite binds JS numbers as REAL.
      db.prepare(
        `INSERT INTO ${table} (topic, subject, version, state, saved_at)
           VALUES (?, ?, CAST(? AS INTEGER), ?, CAST(? AS INTEGER))
         ON CONFLICT (topic, subject) DO UPDATE SET version = excluded.version,
           state = excluded.state, saved_at = excluded.saved_at`,
      ).run(topic, subject, checkedVersion(version), json, Date.now());
    },
  };
}

/**
 * Snapshots in PostgreSQL through a `pg` Pool (or any client with `query`), one row per
 * (topic, subject), the state as JSON text.
 */
export function pgSnapshotStore<S>(
  pool: PgQueryable,
  options: SnapshotStoreOptions = {},
): SnapshotStore<S> {
  const table = quoteTable(options.table ?? DEFAULT_TABLE);
  let ready: Promise<unknown> | undefined;
  const ensure = (): Promise<unknown> => {
    ready ??= pool.query(
      `CREATE TABLE IF NOT EXISTS ${table} (topic text NOT NULL, subject text NOT NULL,
         version bigint NOT NULL, state text NOT NULL, saved_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (topic, subject))`,
    );
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };
  return {
    async load(topic, subject) {
      await ensure();
      const { rows } = await pool.query(
        `SELECT version, state FROM ${table} WHERE topic = $1 AND subject = $2`,
        [topic, subject],
      );
      const row = rows[0] as { version: unknown; state: unknown } | undefined;
      return row === undefined ? undefined : snapshotOf<S>(row.version, row.state);
    },
    async save(topic, subject, version, state) {
      await ensure();
      // Unconditional: a snapshot found ahead of its stream (a topic recreated) must be
      // replaceable by a lower version, and an older one winning a race is still true.
      await pool.query(
        `INSERT INTO ${table} (topic, subject, version, state) VALUES ($1, $2, $3, $4)
         ON CONFLICT (topic, subject) DO UPDATE SET version = excluded.version,
           state = excluded.state, saved_at = now()`,
        [topic, subject, checkedVersion(version), stateJson(state)],
      );
    },
  };
}

function stateJson(state: unknown): string {
  const json = JSON.stringify(state);
  if (json === undefined) throw new TypeError("a snapshot's state must be JSON-serialisable");
  return json;
}

function checkedVersion(version: number): number {
  if (!Number.isSafeInteger(version) || version < 1)
    throw new TypeError(`a snapshot's version must be a positive integer, not ${version}`);
  return version;
}

// pg answers bigint as a string, node:sqlite INTEGER as a number.
function snapshotOf<S>(version: unknown, state: unknown): Snapshot<S> {
  const number = Number(version);
  if (!Number.isSafeInteger(number) || number < 1 || typeof state !== "string")
    throw new TypeError(`a stored snapshot is malformed (version ${String(version)})`);
  return { version: number, state: JSON.parse(state) as S };
}
