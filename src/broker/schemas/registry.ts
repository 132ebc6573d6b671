/**
 * The schema registry: versions of a JSON Schema per event `type`, kept in the Catalog
 * (records.ts) and served from this node's watched view (view.ts). Writes read the type's
 * records from the store itself, check the new schema against them, and create the next
 * version with a create-only compare-and-set; a node that loses the race re-reads and
 * tries again, so versions run 1..n without a gap or a duplicate on any number of nodes.
 */
import { type Clock, systemClock } from "../../core/clock.js";
import { isSwitchyardError, SwitchyardError } from "../../core/errors.js";
import { assertEventType } from "../../core/names.js";
import type { Catalog } from "../../engine/engine.js";
import type { Actor, AuditTrail } from "../audit.js";
import { jsonEqual } from "./canonical.js";
import { checkSchemaChange } from "./compatibility.js";
import {
  type ConfigRecord,
  configKey,
  configValue,
  decodeRecord,
  SCHEMAS_KIND,
  typePrefix,
  type VersionRecord,
  versionKey,
  versionValue,
} from "./records.js";
import { parseConfigBody, parseSchemaBody } from "./requests.js";
import {
  type CompatibilityMode,
  type CompatibilityResult,
  type CompiledSchema,
  DEFAULT_COMPATIBILITY,
  type JsonSchema,
  type SchemaLookup,
} from "./types.js";
import { SchemaView, type TypeState } from "./view.js";

/** A registration racing this many others for one type in a row gives up (it never has). */
const MAX_ATTEMPTS = 100;
const VERSION_TEXT = /^[1-9][0-9]{0,15}$/;

/** `GET /v1/schemas`: one entry per type with at least one version. */
export interface SchemaSummary {
  readonly type: string;
  readonly latest: number;
  readonly compatibility: CompatibilityMode;
}

/** `GET /v1/schemas/{type}`. */
export interface SchemaTypeView {
  readonly type: string;
  readonly compatibility: CompatibilityMode;
  readonly versions: readonly { readonly version: number; readonly createdAt: string }[];
  /** The latest version's schema. */
  readonly schema: JsonSchema;
}

/** `GET /v1/schemas/{type}/versions/{n}`. */
export interface SchemaVersionView {
  readonly type: string;
  readonly version: number;
  readonly schema: JsonSchema;
}

/** `PUT /v1/schemas/{type}`: `created` false when the schema equals the latest version. */
export interface Registered {
  readonly type: string;
  readonly version: number;
  readonly created: boolean;
}

/** `PUT /v1/schemas/{type}/config`. */
export interface SchemaConfigView {
  readonly type: string;
  readonly compatibility: CompatibilityMode;
}

/** What the store holds of one type, versions oldest first. */
interface Stored {
  readonly versions: readonly VersionRecord[];
  readonly config: ConfigRecord | undefined;
}

function notFound(type: string, version?: string): SwitchyardError {
  const what =
    version === undefined
      ? `no schema is registered for type ${JSON.stringify(type)}`
      : `type ${JSON.stringify(type)} has no schema version ${JSON.stringify(version)}`;
  return new SwitchyardError("schema_not_found", what);
}

function modeOf(config: ConfigRecord | undefined): CompatibilityMode {
  return config?.compatibility ?? DEFAULT_COMPATIBILITY;
}

function history(state: TypeState): JsonSchema[] {
  return [...state.versions.values()]
    .map((entry) => entry.record)
    .sort((a, b) => a.version - b.version)
    .map((record) => record.schema);
}

function incompatible(type: string, mode: CompatibilityMode, result: CompatibilityResult) {
  const first = result.errors[0];
  const why = first === undefined ? "" : `: ${first.pointer || "/"}: ${first.message}`;
  return new SwitchyardError(
    "schema_incompatible",
    `the schema breaks type ${type}'s ${mode} compatibility${why}`,
    { errors: result.errors },
  );
}

export interface SchemaRegistryOptions {
  readonly audit: AuditTrail;
  readonly clock?: Clock;
}

export class SchemaRegistry implements SchemaLookup {
  readonly #catalog: Catalog;
  readonly #audit: AuditTrail;
  readonly #clock: Clock;
  readonly #view: SchemaView;

  constructor(catalog: Catalog, options: SchemaRegistryOptions) {
    this.#catalog = catalog;
    this.#audit = options.audit;
    this.#clock = options.clock ?? systemClock;
    this.#view = new SchemaView(catalog, this.#clock);
  }

  /** Starts the watched view; resolves once it holds the registry. Run before serving. */
  start(): Promise<void> {
    return this.#view.start();
  }

  /** Stops the watch. */
  close(): Promise<void> {
    return this.#view.close();
  }

  // The publish path's lookups: memory only (503 `engine_unavailable` when the view is stale).
  latest(type: string): CompiledSchema | undefined {
    return this.#view.latest(type);
  }
  version(type: string, version: number): CompiledSchema | undefined {
    return this.#view.version(type, version);
  }

  list(): SchemaSummary[] {
    return this.#view
      .types()
      .filter((state) => state.latest > 0)
      .map((state) => ({
        type: state.type,
        latest: state.latest,
        compatibility: modeOf(state.config),
      }));
  }

  get(type: string): SchemaTypeView {
    const state = this.#registered(type);
    const versions = [...state.versions.values()]
      .map(({ record }) => ({
        version: record.version,
        createdAt: new Date(record.createdAt).toISOString(),
      }))
      .sort((a, b) => a.version - b.version);
    const latest = state.versions.get(state.latest)?.record.schema ?? false;
    return { type, compatibility: modeOf(state.config), versions, schema: latest };
  }

  /** `version` as the URL gives it: anything but a version number is not found. */
  getVersion(type: string, version: string): SchemaVersionView {
    const state = this.#registered(type);
    const entry = VERSION_TEXT.test(version) ? state.versions.get(Number(version)) : undefined;
    if (entry === undefined) throw notFound(type, version);
    return { type, version: entry.record.version, schema: entry.record.schema };
  }

  /** Whether `body.schema` would be accepted as the type's next version; stores nothing. */
  check(type: string, body: unknown): CompatibilityResult {
    assertEventType(type);
    const schema = parseSchemaBody(body);
    const state = this.#registered(type);
    return checkSchemaChange(history(state), schema, modeOf(state.config));
  }

  /**
   * Registers `body.schema` as the type's next version (`created`), or answers the latest
   * version when the schema equals it. 409 `schema_incompatible` when it breaks the mode.
   */
  async register(type: string, body: unknown, actor: Actor = null): Promise<Registered> {
    assertEventType(type);
    const schema = parseSchemaBody(body);
    for (let attempt = 1; ; attempt++) {
      const stored = await this.#load(type);
      const latest = stored.versions.at(-1);
      if (latest !== undefined && jsonEqual(latest.schema, schema))
        return { type, version: latest.version, created: false };
      const mode = modeOf(stored.config);
      const result = checkSchemaChange(
        stored.versions.map((v) => v.schema),
        schema,
        mode,
      );
      if (!result.compatible) throw incompatible(type, mode, result);
      const version = (latest?.version ?? 0) + 1;
      const record = { type, version, schema, createdAt: this.#clock.now() };
      if (!(await this.#create(record, attempt))) continue;
      await this.#audit.write("switchyard.schema.registered", type, { type, version }, actor);
      return { type, version, created: true };
    }
  }

  /** Writes version n if no node has; false when another got there first (re-read, retry). */
  async #create(record: VersionRecord, attempt: number): Promise<boolean> {
    const key = versionKey(record.type, record.version);
    const value = versionValue(record);
    try {
      const revision = await this.#catalog.put(SCHEMAS_KIND, key, value, { expectedRevision: 0 });
      this.#view.apply(key, revision, value);
      return true;
    } catch (error) {
      if (!isSwitchyardError(error) || error.code !== "revision_conflict") throw error;
      if (attempt >= MAX_ATTEMPTS)
        throw new SwitchyardError(
          "engine_unavailable",
          `type ${record.type} kept gaining versions while this one was registered; try again`,
        );
      return false;
    }
  }

  /**
   * Sets the type's compatibility mode; later registrations are checked under it. A type
   * may be configured before its first version.
   */
  async configure(type: string, body: unknown, actor: Actor = null): Promise<SchemaConfigView> {
    assertEventType(type);
    const compatibility = parseConfigBody(body);
    const key = configKey(type);
    const value = configValue({ type, compatibility, updatedAt: this.#clock.now() });
    const revision = await this.#catalog.put(SCHEMAS_KIND, key, value);
    this.#view.apply(key, revision, value);
    await this.#audit.write("switchyard.schema.configured", type, { type, compatibility }, actor);
    return { type, compatibility };
  }

  /** The type's records as the store holds them now (this node's view catches up with them). */
  async #load(type: string): Promise<Stored> {
    const versions: VersionRecord[] = [];
    let config: ConfigRecord | undefined;
    for (const entry of await this.#catalog.list(SCHEMAS_KIND, typePrefix(type))) {
      this.#view.apply(entry.key, entry.revision, entry.value);
      const decoded = decodeRecord(entry.key, entry.value);
      if (decoded === undefined || decoded.type !== type) continue;
      if (decoded.record === "config") {
        const { record: _, ...fields } = decoded;
        config = fields;
      } else {
        const { record: _, ...fields } = decoded;
        versions.push(fields);
      }
    }
    versions.sort((a, b) => a.version - b.version);
    return { versions, config };
  }

  /** The type's state when it has a version, else 404 `schema_not_found`. */
  #registered(type: string): TypeState {
    assertEventType(type);
    const state = this.#view.type(type);
    if (state === undefined || state.latest === 0) throw notFound(type);
    return state;
  }
}
