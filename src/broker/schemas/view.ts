/**
 * One node's copy of the registry, kept current by `catalog.watch("schemas")`: publishes and
 * reads are answered from memory, never from the store. Each version is compiled once, on
 * first use. A view whose last `synced` marker is more than 5 s old answers 503
 * `engine_unavailable` rather than validate against schemas it cannot vouch for.
 */
import { type Clock, systemClock } from "../../core/clock.js";
import { SwitchyardError } from "../../core/errors.js";
import type { Catalog, CatalogValue } from "../../engine/engine.js";
import { followCatalog } from "../catalog-follow.js";
import { STALE_VIEW_MS } from "../keys.js";
import {
  type ConfigRecord,
  decodeRecord,
  parseKey,
  SCHEMAS_KIND,
  type VersionRecord,
} from "./records.js";
import type { CompiledSchema, SchemaLookup } from "./types.js";
import { compileSchema } from "./validators.js";

interface VersionEntry {
  readonly record: VersionRecord;
  compiled?: CompiledSchema;
}

/** What the view holds of one type: its versions (1..latest) and its config record, if any. */
export interface TypeState {
  readonly type: string;
  readonly versions: Map<number, VersionEntry>;
  latest: number;
  config: ConfigRecord | undefined;
}

export class SchemaView implements SchemaLookup {
  readonly #catalog: Catalog;
  readonly #clock: Clock;
  readonly #types = new Map<string, TypeState>();
  /** The revision applied per Catalog key: a write this node applied first is not applied again. */
  readonly #revisions = new Map<string, number>();
  readonly #stop = new AbortController();
  #syncedAt = Number.NEGATIVE_INFINITY;
  #watching: Promise<void> | undefined;

  constructor(catalog: Catalog, clock: Clock = systemClock) {
    this.#catalog = catalog;
    this.#clock = clock;
  }

  /** Starts the watch; resolves once the view holds the initial state. Idempotent. */
  async start(): Promise<void> {
    if (this.#watching !== undefined) return;
    const following = followCatalog(this.#catalog, SCHEMAS_KIND, this.#stop.signal, (event) => {
      if (event.type === "synced") this.#syncedAt = this.#clock.now();
      else this.apply(event.key, event.revision, event.value);
    });
    this.#watching = following.done;
    await following.ready;
  }

  /** Stops the watch. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#watching;
  }

  /**
   * Applies one Catalog record (`value` null: deleted). Records at or below the revision
   * already applied for their key are ignored, so the watch and this node's own writes may
   * arrive in either order.
   */
  apply(key: string, revision: number, value: CatalogValue | null): void {
    if ((this.#revisions.get(key) ?? 0) >= revision) return;
    this.#revisions.set(key, revision);
    const decoded = value === null ? undefined : decodeRecord(key, value);
    if (decoded === undefined) {
      this.#forget(key);
      return;
    }
    const state = this.#state(decoded.type);
    if (decoded.record === "config") {
      const { record: _, ...config } = decoded;
      state.config = config;
    } else {
      const { record: _, ...version } = decoded;
      state.versions.set(version.version, { record: version });
      state.latest = Math.max(state.latest, version.version);
    }
  }

  /** A record deleted (the API never deletes; an operator might) or unreadable: drop it. */
  #forget(key: string): void {
    const parsed = parseKey(key);
    const state = parsed === undefined ? undefined : this.#types.get(parsed.type);
    if (parsed === undefined || state === undefined) return;
    if (parsed.version === null) state.config = undefined;
    else state.versions.delete(parsed.version);
    state.latest = Math.max(0, ...state.versions.keys());
  }

  #state(type: string): TypeState {
    let state = this.#types.get(type);
    if (state === undefined) {
      state = { type, versions: new Map(), latest: 0, config: undefined };
      this.#types.set(type, state);
    }
    return state;
  }

  /** 503 rather than answer from a view more than 5 s stale (as the key view does). */
  checkFresh(): void {
    if (this.#clock.now() - this.#syncedAt > STALE_VIEW_MS)
      throw new SwitchyardError(
        "engine_unavailable",
        "this router's view of the schema registry is stale; try again shortly",
      );
  }

  /** The type's state, or undefined when the view holds nothing of it. */
  type(type: string): TypeState | undefined {
    this.checkFresh();
    return this.#types.get(type);
  }

  /** Every type the view holds, in type order. */
  types(): TypeState[] {
    this.checkFresh();
    return [...this.#types.values()].sort((a, b) =>
      a.type < b.type ? -1 : a.type > b.type ? 1 : 0,
    );
  }

  latest(type: string): CompiledSchema | undefined {
    const state = this.type(type);
    return state === undefined ? undefined : compiled(state, state.latest);
  }

  version(type: string, version: number): CompiledSchema | undefined {
    const state = this.type(type);
    return state === undefined ? undefined : compiled(state, version);
  }
}

function compiled(state: TypeState, version: number): CompiledSchema | undefined {
  const entry = state.versions.get(version);
  if (entry === undefined) return undefined;
  entry.compiled ??= compileSchema(state.type, version, entry.record.schema);
  return entry.compiled;
}
