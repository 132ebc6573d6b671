import { COMPATIBILITY_MODES } from "../broker/schemas/types.js";
import type { ErrorCode } from "../core/errors.js";
import { type Json, operation } from "./openapi-operation.js";

// The schema registry's part of the OpenAPI document (API.md "Schemas"): paths and bodies.

const obj = (properties: Record<string, Json>, required: string[], extra: Json = {}): Json => ({
  type: "object",
  properties,
  required,
  ...extra,
});
const type = { type: "string", pattern: "^[a-zA-Z0-9._-]{1,200}$" };
const version = { type: "integer", minimum: 1 };
const compatibility = {
  type: "string",
  enum: [...COMPATIBILITY_MODES],
  description: "Per type; default BACKWARD",
};
const jsonSchema = {
  type: ["object", "boolean"],
  description:
    "A JSON Schema 2020-12 document: local `#…` $refs only, at most 256 KiB and 32 levels deep, `pattern`s in a linear-time engine",
};
const problems = {
  type: "array",
  items: obj({ pointer: { type: "string" }, message: { type: "string" } }, ["pointer", "message"]),
  description: "What breaks the mode; pointers into the new schema",
};

export const REGISTRY_SCHEMAS: Record<string, Json> = {
  SchemaInput: obj({ schema: jsonSchema }, ["schema"], { additionalProperties: false }),
  SchemaRegistered: obj({ type, version }, ["type", "version"]),
  SchemaList: obj(
    {
      schemas: {
        type: "array",
        items: obj({ type, latest: version, compatibility }, ["type", "latest", "compatibility"]),
      },
    },
    ["schemas"],
  ),
  SchemaType: obj(
    {
      type,
      compatibility,
      versions: {
        type: "array",
        items: obj({ version, createdAt: { type: "string", format: "date-time" } }, [
          "version",
          "createdAt",
        ]),
      },
      schema: { ...jsonSchema, description: "The latest version's schema" },
    },
    ["type", "compatibility", "versions", "schema"],
  ),
  SchemaVersion: obj({ type, version, schema: jsonSchema }, ["type", "version", "schema"]),
  SchemaCheck: obj({ compatible: { type: "boolean" }, errors: problems }, ["compatible", "errors"]),
  SchemaConfigInput: obj({ compatibility }, ["compatibility"], { additionalProperties: false }),
  SchemaConfig: obj({ type, compatibility }, ["type", "compatibility"]),
};

const BODY_ERRORS: ErrorCode[] = [
  "invalid_name",
  "invalid_json",
  "invalid_request",
  "body_too_large",
];

export const REGISTRY_PATHS: Json = {
  "/v1/schemas": {
    get: operation("listSchemas", {
      summary: "Every event type with a registered schema (any key)",
      ok: { 200: "SchemaList" },
      errors: [],
    }),
  },
  "/v1/schemas/{type}": {
    put: operation("registerSchema", {
      summary: "Register a new version (201), or answer the latest (200) when the schema equals it",
      description:
        "Equal means equal as canonical JSON (key order and layout do not count). A schema that breaks the type's compatibility mode against its versions answers 409 `schema_incompatible`, with `errors` pointing into the new schema. Versions run from 1 without gaps, also under concurrent registrations on several nodes.",
      params: ["type"],
      body: "SchemaInput",
      ok: { 200: "SchemaRegistered", 201: "SchemaRegistered" },
      errors: [...BODY_ERRORS, "invalid_schema", "schema_incompatible"],
    }),
    get: operation("getSchema", {
      summary: "A type's compatibility mode, versions and latest schema (any key)",
      params: ["type"],
      ok: { 200: "SchemaType" },
      errors: ["invalid_name", "schema_not_found"],
    }),
  },
  "/v1/schemas/{type}/versions/{n}": {
    get: operation("getSchemaVersion", {
      summary: "One version of a type's schema (any key)",
      params: ["type", "n"],
      ok: { 200: "SchemaVersion" },
      errors: ["invalid_name", "schema_not_found"],
    }),
  },
  "/v1/schemas/{type}/check": {
    post: operation("checkSchema", {
      summary: "Whether a schema would be accepted as the type's next version; stores nothing",
      params: ["type"],
      body: "SchemaInput",
      ok: { 200: "SchemaCheck" },
      errors: [...BODY_ERRORS, "invalid_schema", "schema_not_found"],
    }),
  },
  "/v1/schemas/{type}/config": {
    put: operation("configureSchema", {
      summary: "Set a type's compatibility mode (also before its first version)",
      description:
        "Later registrations are checked under the new mode; versions already registered are not checked again.",
      params: ["type"],
      body: "SchemaConfigInput",
      ok: { 200: "SchemaConfig" },
      errors: BODY_ERRORS,
    }),
  },
};
