/**
 * The Catalog on SQLite: the `catalog` table, one store-wide revision counter
 * (`catalog_revision`, so a revision is never reused, not even after a delete and a
 * restart), writes as group-commit jobs. Watches are in-process: one router owns the store,
 * so each committed change is handed to the watchers of its kind (`CatalogFeed`) right after
 * its commit, in commit (= revision) order. Expired rows are hidden from
 * reads and deleted every `PURGE_MS`, as changes watchers see.
 */
import { CatalogFeed } from "../catalog-feed.js";
import {
  checkDelete,
  checkKey,
  checkKind,
  checkPrefix,
  checkPut,
  isLive,
  revisionConflict,
} from "../catalog-rules.js";
import {
  CATALOG_SYNC_MS,
  type Catalog,
  type CatalogChange,
  type CatalogDeleteOptions,
  type CatalogEntry,
  type CatalogEvent,
  type CatalogPutOptions,
  type CatalogValue,
} from "../engine.js";
import type { EngineContext } from "./context.js";
import { closedError, toSwitchyardError } from "./errors.js";
import type { JobTx } from "./job-tx.js";

const PURGE_MS = 1_000;

interface Row {
  readonly key: string;
  readonly value: string;
  readonly revision: number;
  readonly updated_at: number;
  readonly expires_at: number | null;
}

function toEntry(row: Row): CatalogEntry {
  return {
    key: row.key,
    value: JSON.parse(row.value) as CatalogValue,
    revision: row.revision,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  };
}

function nextRevision(tx: JobTx): number {
  return tx.db.value("UPDATE catalog_revision SET revision = revision + 1 RETURNING revision");
}

/** The row as a compare-and-set sees it: expired rows count as absent. */
function liveRow(tx: JobTx, kind: string, key: string): Row | null {
  const row = tx.db.get<Row & Record<string, unknown>>(
    "SELECT key, value, revision, updated_at, expires_at FROM catalog WHERE kind = ? AND key = ?",
    kind,
    key,
  );
  return row !== undefined && isLive(row.expires_at, tx.now) ? row : null;
}

export class SqliteCatalog implements Catalog {
  readonly #ctx: EngineContext;
  readonly #feed = new CatalogFeed();
  readonly #purger: NodeJS.Timeout;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    this.#purger = setInterval(() => this.#purge(), PURGE_MS);
    // In-process, a watch is current once its queue is drained: the marker says so.
    this.#heartbeat = setInterval(() => this.#feed.synced(ctx.clock.now()), CATALOG_SYNC_MS);
    this.#purger.unref();
    this.#heartbeat.unref();
  }

  #read<T>(read: () => T): Promise<T> {
    if (this.#ctx.isClosed()) return Promise.reject(closedError());
    try {
      return Promise.resolve(read());
    } catch (error) {
      return Promise.reject(toSwitchyardError(error, "reading the catalog"));
    }
  }

  #rows(kind: string, prefix: string): Row[] {
    return this.#ctx.db.all<Row & Record<string, unknown>>(
      `SELECT key, value, revision, updated_at, expires_at FROM catalog
        WHERE kind = ? AND key >= ? AND key < ? AND (expires_at IS NULL OR expires_at > ?)
        ORDER BY key`,
      kind,
      prefix,
      `${prefix}\u007f`,
      this.#ctx.clock.now(),
    );
  }

  async get(kind: string, key: string): Promise<CatalogEntry | null> {
    checkKey(kind, key);
    return this.#read(() => {
      const row = this.#ctx.db.get<Row & Record<string, unknown>>(
        "SELECT key, value, revision, updated_at, expires_at FROM catalog WHERE kind = ? AND key = ?",
        kind,
        key,
      );
      return row !== undefined && isLive(row.expires_at, this.#ctx.clock.now())
        ? toEntry(row)
        : null;
    });
  }

  async list(kind: string, prefix = ""): Promise<readonly CatalogEntry[]> {
    checkPrefix(kind, prefix);
    return this.#read(() => this.#rows(kind, prefix).map(toEntry));
  }

  async put(
    kind: string,
    key: string,
    value: CatalogValue,
    options: CatalogPutOptions = {},
  ): Promise<number> {
    const text = checkPut(kind, key, value, options);
    const { expectedRevision, ttlMs } = options;
    return this.#ctx.writer.submit(1, (tx) => {
      if (expectedRevision !== undefined) {
        const current = liveRow(tx, kind, key);
        if ((current?.revision ?? 0) !== expectedRevision)
          throw revisionConflict(kind, key, expectedRevision);
      }
      const revision = nextRevision(tx);
      const expiresAt = ttlMs === undefined ? null : tx.now + ttlMs;
      tx.db.run(
        `INSERT INTO catalog (kind, key, value, revision, updated_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value,
           revision = excluded.revision, updated_at = excluded.updated_at,
           expires_at = excluded.expires_at`,
        kind,
        key,
        text,
        revision,
        tx.now,
        expiresAt,
      );
      const change: CatalogChange = {
        type: "change",
        kind,
        key,
        revision,
        value: JSON.parse(text) as CatalogValue,
        updatedAt: tx.now,
        expiresAt,
      };
      tx.afterCommit(() => this.#feed.publish(change));
      return revision;
    });
  }

  async delete(kind: string, key: string, options: CatalogDeleteOptions = {}): Promise<boolean> {
    checkDelete(kind, key, options);
    return this.#ctx.writer.submit(1, (tx) => {
      const current = liveRow(tx, kind, key);
      if (current === null) return false;
      const expected = options.expectedRevision;
      if (expected !== undefined && current.revision !== expected)
        throw revisionConflict(kind, key, expected);
      this.#deleteRow(tx, kind, key);
      return true;
    });
  }

  #deleteRow(tx: JobTx, kind: string, key: string): void {
    tx.db.run("DELETE FROM catalog WHERE kind = ? AND key = ?", kind, key);
    const change: CatalogChange = {
      type: "change",
      kind,
      key,
      revision: nextRevision(tx),
      value: null,
      updatedAt: tx.now,
      expiresAt: null,
    };
    tx.afterCommit(() => this.#feed.publish(change));
  }

  #purge(): void {
    if (this.#ctx.isClosed()) return;
    // A read first: an idle store must not pay a commit (an fsync) every second.
    const due = this.#ctx.db.get(
      "SELECT 1 AS due FROM catalog WHERE expires_at <= ? LIMIT 1",
      this.#ctx.clock.now(),
    );
    if (due === undefined) return;
    this.#ctx.writer
      .submit(1, (tx) => {
        const due = tx.db.all<{ kind: string; key: string }>(
          "SELECT kind, key FROM catalog WHERE expires_at <= ? ORDER BY expires_at LIMIT 1000",
          tx.now,
        );
        for (const { kind, key } of due) this.#deleteRow(tx, kind, key);
      })
      .catch(() => {
        // Closing or disk trouble: the next tick tries again; reads hide expired rows anyway.
      });
  }

  async *watch(kind: string, signal: AbortSignal): AsyncIterable<CatalogEvent> {
    checkKind(kind);
    if (this.#ctx.isClosed()) return;
    yield* this.#feed.watch(kind, signal, () => [
      ...this.#rows(kind, "")
        .sort((a, b) => a.revision - b.revision)
        .map((row): CatalogEvent => ({ type: "change", kind, ...toEntry(row) })),
      { type: "synced", at: this.#ctx.clock.now() },
    ]);
  }

  /** Ends every watch and stops the timers; the engine closes the writer after. */
  close(): void {
    clearInterval(this.#purger);
    clearInterval(this.#heartbeat);
    this.#feed.close();
  }
}
