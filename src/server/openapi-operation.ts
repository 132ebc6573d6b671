import { ERROR_CATALOGUE, type ErrorCode } from "../core/errors.js";
import { RETRY_AFTER_SECONDS } from "./problem.js";

// The building blocks of the OpenAPI document's operations, shared by its path tables.

export type Json = Record<string, unknown>;

interface OperationSpec {
  readonly summary: string;
  readonly description?: string;
  readonly params?: readonly string[];
  readonly query?: readonly Json[];
  readonly body?: string | Json;
  readonly ok: Readonly<Record<number, string | null>>;
  /** Catalogue codes this operation may answer (beyond the ones every route may answer). */
  readonly errors: readonly ErrorCode[];
}

/** Codes any route may answer. */
export const COMMON_ERRORS: readonly ErrorCode[] = [
  "unauthenticated",
  "misdirected_request",
  "forbidden",
  "rate_limited",
  "unsupported_media_type",
  "request_timeout",
  "internal",
  "shutting_down",
  "engine_unavailable",
  "storage_full",
];

export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: Json, type = "application/json") => ({ [type]: { schema } });

const PATH_PARAMS: Record<string, Json> = {
  topic: {
    name: "topic",
    in: "path",
    required: true,
    schema: { type: "string", pattern: "^[a-zA-Z0-9._-]{1,200}$" },
  },
  name: {
    name: "name",
    in: "path",
    required: true,
    schema: { type: "string", pattern: "^[a-zA-Z0-9_-]{1,64}$" },
  },
  id: { name: "id", in: "path", required: true, schema: { type: "string" } },
  correlationid: {
    name: "correlationid",
    in: "path",
    required: true,
    description: "An event's `correlationid` attribute, percent-encoded",
    schema: { type: "string" },
  },
  subject: {
    name: "subject",
    in: "path",
    required: true,
    description: "An event's `subject` attribute, percent-encoded (at most 1024 bytes)",
    schema: { type: "string" },
  },
  type: {
    name: "type",
    in: "path",
    required: true,
    description: "An event type",
    schema: { type: "string", pattern: "^[a-zA-Z0-9._-]{1,200}$" },
  },
  n: {
    name: "n",
    in: "path",
    required: true,
    description: "A schema version, from 1",
    schema: { type: "integer", minimum: 1 },
  },
};

const RETRY_AFTER: Json = {
  "Retry-After": {
    description: "Seconds to wait before trying again",
    schema: { type: "integer", minimum: 1 },
  },
};

export function errorResponses(codes: readonly ErrorCode[]): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, ...COMMON_ERRORS]) {
    const status = ERROR_CATALOGUE[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Json = {};
  for (const [status, list] of byStatus)
    responses[String(status)] = {
      description: `Problem with code ${list.map((c) => `\`${c}\``).join(", ")}`,
      ...(list.some((c) => RETRY_AFTER_SECONDS[c] !== undefined) ? { headers: RETRY_AFTER } : {}),
      content: jsonContent(schemaRef("Problem"), "application/problem+json"),
    };
  return responses;
}

export function operation(id: string, spec: OperationSpec): Json {
  const responses: Json = {};
  for (const [status, schema] of Object.entries(spec.ok))
    responses[status] =
      schema === null
        ? { description: "Done" }
        : { description: "OK", content: jsonContent(schemaRef(schema)) };
  const body = spec.body;
  return {
    operationId: id,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    parameters: [...(spec.params ?? []).map((p) => PATH_PARAMS[p]), ...(spec.query ?? [])],
    ...(body === undefined
      ? {}
      : {
          requestBody: { content: typeof body === "string" ? jsonContent(schemaRef(body)) : body },
        }),
    responses: { ...responses, ...errorResponses(spec.errors) },
    "x-error-codes": spec.errors,
  };
}

export const q = (name: string, schema: Json, description: string): Json => ({
  name,
  in: "query",
  schema,
  description,
});
