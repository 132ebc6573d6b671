import { INFER_LIMITS } from "../broker/schemas/discover.js";
import { type Json, operation } from "./openapi-operation.js";

// Schema discovery and the AsyncAPI document in the OpenAPI document (API.md "Schemas").

const count = (description: string): Json => ({ type: "integer", minimum: 0, description });

export const DISCOVERY_SCHEMAS: Record<string, Json> = {
  InferRequest: {
    type: "object",
    properties: {
      topic: { type: "string", pattern: "^[a-zA-Z0-9._-]{1,200}$", description: "Where to sample" },
      limit: {
        type: "integer",
        minimum: 1,
        maximum: INFER_LIMITS.maxLimit,
        default: INFER_LIMITS.defaultLimit,
        description: "Samples at most: the newest events of the type",
      },
    },
    required: ["topic"],
    additionalProperties: false,
  },
  InferResponse: {
    type: "object",
    properties: {
      schema: {
        type: "object",
        description:
          "The proposal, JSON Schema 2020-12: closed objects (`additionalProperties: false`), `required` where every sample has the property, types widened across samples, `enum` only for small closed sets of strings",
      },
      samples: count("Events whose data the proposal was inferred from"),
      skipped: count("Events of the type whose data is not JSON"),
      scanned: count(
        `Events of the topic looked at, newest first (at most ${INFER_LIMITS.maxScanned})`,
      ),
    },
    required: ["schema", "samples", "skipped", "scanned"],
  },
  AsyncApi: {
    type: "object",
    description: "An AsyncAPI 3.0.0 document",
    properties: { asyncapi: { const: "3.0.0" } },
    required: ["asyncapi"],
  },
};

export const DISCOVERY_PATHS: Json = {
  "/v1/schemas/{type}/infer": {
    post: operation("inferSchema", {
      summary: "Propose a schema from the newest events of the type in a topic; registers nothing",
      description: `Looks at the topic's newest events (at most ${INFER_LIMITS.maxScanned}) for up to \`limit\` events of the type with JSON data. 400 \`invalid_request\` at \`/topic\` when none is found.`,
      params: ["type"],
      body: "InferRequest",
      ok: { 200: "InferResponse" },
      errors: [
        "invalid_name",
        "invalid_json",
        "invalid_request",
        "body_too_large",
        "topic_not_found",
      ],
    }),
  },
  "/v1/asyncapi.json": {
    get: operation("asyncapi", {
      summary:
        "The AsyncAPI 3.0 document of the topics and subscriptions the key may see (any key)",
      description:
        "A channel per topic the key may read, publish to or manage; a message per event type (the latest registered schema as payload, CloudEvents attributes as headers); a send operation per topic, a receive operation per subscription the key may manage or consume; the server with its security scheme.",
      ok: { 200: "AsyncApi" },
      errors: [],
    }),
  },
};
