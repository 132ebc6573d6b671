/** `client.admin.schemas`: the schema registry's routes (API.md "Schemas"). */
import type { FieldError } from "../core/errors.js";
import type { HttpRequest, HttpTransport } from "./http.js";
import { segment } from "./http.js";
import { type RetryPolicy, withRetry } from "./retry.js";

/** A JSON Schema 2020-12 document for the `data` of one event type. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

export type CompatibilityMode =
  | "BACKWARD"
  | "BACKWARD_TRANSITIVE"
  | "FORWARD"
  | "FORWARD_TRANSITIVE"
  | "FULL"
  | "FULL_TRANSITIVE"
  | "NONE";

export interface SchemaSummary {
  readonly type: string;
  readonly latest: number;
  readonly compatibility: CompatibilityMode;
}

export interface SchemaDetails {
  readonly type: string;
  readonly compatibility: CompatibilityMode;
  readonly versions: readonly { readonly version: number; readonly createdAt: string }[];
  /** The latest version's schema. */
  readonly schema: JsonSchema;
}

export interface SchemaVersion {
  readonly type: string;
  readonly version: number;
  readonly schema: JsonSchema;
}

export interface SchemaRegistered {
  readonly type: string;
  readonly version: number;
  /** False when the schema equalled the latest version (that version is answered). */
  readonly created: boolean;
}

export interface SchemaCheck {
  readonly compatible: boolean;
  /** What breaks the mode; pointers into the checked schema. */
  readonly errors: readonly FieldError[];
}

export interface SchemaConfig {
  readonly type: string;
  readonly compatibility: CompatibilityMode;
}

export interface InferOptions {
  /** The topic whose newest events of the type are sampled. */
  readonly topic: string;
  /** Samples at most (router default 1,000, at most 10,000). */
  readonly limit?: number;
}

/** A proposed schema, for review: nothing is registered. */
export interface SchemaProposal {
  readonly schema: JsonSchema;
  /** Events whose data the proposal was inferred from. */
  readonly samples: number;
  /** Events of the type whose data is not JSON. */
  readonly skipped: number;
  /** Events of the topic looked at, newest first. */
  readonly scanned: number;
}

/**
 * Writes need `schemas:` on the type; reads any key. A breaking schema rejects with
 * `schema_incompatible`, an invalid one with `invalid_schema`, an unknown type or version
 * with `schema_not_found`.
 */
export interface SchemasAdmin {
  /** Registers a new version, or answers the latest when `schema` equals it. */
  put(type: string, schema: JsonSchema): Promise<SchemaRegistered>;
  get(type: string): Promise<SchemaDetails>;
  list(): Promise<SchemaSummary[]>;
  version(type: string, version: number): Promise<SchemaVersion>;
  /** Whether `schema` would be accepted as the next version; stores nothing. */
  check(type: string, schema: JsonSchema): Promise<SchemaCheck>;
  /** Sets the type's compatibility mode (also before its first version). */
  config(type: string, compatibility: CompatibilityMode): Promise<SchemaConfig>;
  /**
   * Proposes a schema from the newest events of the type in a topic (needs `read:` on the
   * topic and `schemas:` on the type); registers nothing. A topic without such events
   * rejects with `invalid_request`.
   */
  infer(type: string, options: InferOptions): Promise<SchemaProposal>;
}

const schemaPath = (type: string): string => `/v1/schemas/${segment(type)}`;

/** Every call is safe to repeat (an equal schema answers its version), so all are retried. */
export function createSchemasAdmin(http: HttpTransport, retry: RetryPolicy): SchemasAdmin {
  const call = <T>(request: HttpRequest) =>
    withRetry(async () => (await http.request<T>(request)).body, retry);
  return {
    async put(type, schema) {
      const request: HttpRequest = { method: "PUT", path: schemaPath(type), json: { schema } };
      const res = await withRetry(
        () => http.request<{ type: string; version: number }>(request),
        retry,
      );
      return { ...res.body, created: res.status === 201 };
    },
    get: (type) => call<SchemaDetails>({ method: "GET", path: schemaPath(type) }),
    list: async () =>
      (await call<{ schemas: SchemaSummary[] }>({ method: "GET", path: "/v1/schemas" })).schemas,
    version: (type, version) =>
      call<SchemaVersion>({ method: "GET", path: `${schemaPath(type)}/versions/${version}` }),
    check: (type, schema) =>
      call<SchemaCheck>({ method: "POST", path: `${schemaPath(type)}/check`, json: { schema } }),
    config: (type, compatibility) =>
      call<SchemaConfig>({
        method: "PUT",
        path: `${schemaPath(type)}/config`,
        json: { compatibility },
      }),
    infer: (type, options) =>
      call<SchemaProposal>({ method: "POST", path: `${schemaPath(type)}/infer`, json: options }),
  };
}
