import type { ErrorCode } from "../core/errors.js";
import { ROUTE_SCOPES } from "./auth/route-scopes.js";
import { DISCOVERY_PATHS, DISCOVERY_SCHEMAS } from "./openapi-discovery.js";
import { errorResponses, type Json, operation, q, schemaRef } from "./openapi-operation.js";
import { REGISTRY_PATHS, REGISTRY_SCHEMAS } from "./openapi-registry.js";
import { SCHEMAS } from "./openapi-schemas.js";

export { COMMON_ERRORS } from "./openapi-operation.js";

// The OpenAPI 3.1 document of API.md, maintained by hand beside the routes. A test checks that
// every registered route is here and that the error codes agree with the catalogue.

const NAME_ERRORS: ErrorCode[] = ["invalid_name", "invalid_json", "invalid_request"];
const SUB_ERRORS: ErrorCode[] = [...NAME_ERRORS, "subscription_not_found", "body_too_large"];
const settle = (op: string, body: string, extra: string): Json =>
  operation(`${op}Deliveries`, {
    summary: `${op[0]?.toUpperCase()}${op.slice(1)} deliveries by ackId`,
    description: `${extra} Every ackId is checked first: one that this router could not have issued answers 400 \`invalid_ack_id\` and nothing is settled.`,
    params: ["name"],
    body,
    ok: { 200: "SettleResponse" },
    errors: [...SUB_ERRORS, "invalid_ack_id"],
  });

const publishBody = {
  "application/cloudevents+json": { schema: schemaRef("CloudEvent") },
  "application/cloudevents-batch+json": {
    schema: { type: "array", items: schemaRef("CloudEvent"), maxItems: 10_000 },
  },
  "*/*": {
    schema: {},
    description:
      "Binary mode: ce-specversion, ce-id, ce-source, ce-type headers (percent-encoded); the body is data",
  },
};

const PATHS: Json = {
  "/v1/topics": {
    get: operation("listTopics", { summary: "List topics", ok: { 200: "TopicList" }, errors: [] }),
  },
  "/v1/topics/{topic}": {
    put: operation("putTopic", {
      summary: "Create (201) or update (200) a topic",
      description:
        "A router-owned topic (a dead-letter topic, or `switchyard.*`) stays router-owned: `owner` in the body is ignored.",
      params: ["topic"],
      body: "TopicInput",
      ok: { 200: "Topic", 201: "Topic" },
      errors: [...NAME_ERRORS, "body_too_large"],
    }),
    get: operation("getTopic", {
      summary: "A topic with its stats",
      params: ["topic"],
      ok: { 200: "Topic" },
      errors: ["invalid_name", "topic_not_found"],
    }),
    delete: operation("deleteTopic", {
      summary: "Delete a topic and its events",
      description:
        "409 `topic_in_use` while subscriptions read it or use it as dead-letter topic, unless `force=true` (which deletes those subscriptions first).",
      params: ["topic"],
      query: [q("force", { type: "boolean" }, "also delete the subscriptions that use the topic")],
      ok: { 204: null },
      errors: ["invalid_name", "invalid_request", "topic_not_found", "topic_in_use"],
    }),
  },
  "/v1/topics/{topic}/events": {
    post: operation("publish", {
      summary: "Publish one event (structured or binary mode) or a batch",
      description:
        "201 with one entry per input event in order; an event whose `deliverat` lies ahead (at most 365 days, else 400 `invalid_event` at `/deliverat`) is scheduled: its entry is `{ id, scheduled: true, deliverat, duplicate }` without an offset, and it is appended when due (429 `rate_limited` beyond 1,000,000 pending per topic). A repeat inside the dedupe window answers `duplicate: true` with the original offset. 207 only on engines without atomic batches, when the engine failed part way. Unknown topics are created when the router runs with auto-create (with auth, only for a key with `manage:` on the topic; others get 404 `topic_not_found`). Router-owned topics (dead-letter topics, `switchyard.*`, known or not) answer 403 `forbidden`: only the router appends there. A topic whose `schemas.mode` is `enforce` answers 422 `schema_violation` (pointers `/data/total`, `/1/data/total`, `body/total` in binary mode, `/data` for data that is not JSON, `/dataschema` for a producer's dataschema not naming this registry and type) or `schema_unknown_type`; validated events are stored with `dataschema` = `{publicUrl}/v1/schemas/{type}/versions/{n}`.",
      params: ["topic"],
      query: [
        q(
          "expectedVersion",
          { type: "integer", minimum: 0 },
          "topics indexed by subject: append only if the events' one subject is at this version (0 = no stream yet), else 409 version_conflict with currentVersion; dedupe runs first; one event per request on engines without atomic batches",
        ),
      ],
      body: publishBody,
      ok: { 201: "PublishResponse", 207: "PublishResponse" },
      errors: [
        "invalid_name",
        "invalid_json",
        "invalid_request",
        "invalid_event",
        "reserved_attribute",
        "forbidden",
        "topic_not_found",
        "event_too_large",
        "body_too_large",
        "batch_too_large",
        "unsupported_media_type",
        "schema_violation",
        "schema_unknown_type",
        "version_conflict",
        "index_missing",
        "append_failed",
      ],
    }),
    get: operation("readEvents", {
      summary: "Read the log from an offset or a time",
      description:
        "`next` is the last returned offset + 1, or on an empty page max(from, firstOffset).",
      params: ["topic"],
      query: [
        q(
          "from",
          { type: "integer", minimum: 0 },
          "first offset (inclusive); default the first retained",
        ),
        q(
          "since",
          { type: "string", format: "date-time" },
          "first event appended at or after (not with from)",
        ),
        q("limit", { type: "integer", minimum: 1, maximum: 1_000, default: 100 }, "page size"),
      ],
      ok: { 200: "EventsPage" },
      errors: ["invalid_name", "invalid_request", "topic_not_found"],
    }),
  },
  "/v1/topics/{topic}/subjects/{subject}/events": {
    get: operation("readSubject", {
      summary: "Read one subject's stream, in version order",
      description:
        "On topics indexed by `subject`. Events removed by retention are absent and `firstVersion` says where the stream now starts; an unknown subject answers `version: 0` and no events. 409 `index_missing` on a topic without the index or while it is being built.",
      params: ["topic", "subject"],
      query: [
        q("fromVersion", { type: "integer", minimum: 0, default: 1 }, "first version (inclusive)"),
        q("limit", { type: "integer", minimum: 1, maximum: 1_000, default: 100 }, "page size"),
      ],
      ok: { 200: "SubjectEvents" },
      errors: ["invalid_name", "invalid_request", "topic_not_found", "index_missing"],
    }),
  },
  "/v1/subscriptions": {
    get: operation("listSubscriptions", {
      summary: "List subscriptions with stats",
      ok: { 200: "SubscriptionList" },
      errors: [],
    }),
  },
  "/v1/subscriptions/{name}": {
    put: operation("putSubscription", {
      summary: "Create (201) or update (200) a subscription",
      description:
        "An update keeps the position; `start` applies at creation only. The dead-letter topic is created, router-owned, when missing; naming an existing ordinary topic as `deadLetterTopic` (given or defaulted) answers 409 `topic_in_use`, a `switchyard.*` one 400 `invalid_request`. Push secrets are write-only. An unknown topic answers 404 `topic_not_found` unless the router auto-creates topics and (with auth) the key holds `manage:` on it.",
      params: ["name"],
      body: "SubscriptionInput",
      ok: { 200: "Subscription", 201: "Subscription" },
      errors: [
        ...NAME_ERRORS,
        "invalid_filter",
        "invalid_endpoint",
        "topic_not_found",
        "topic_in_use",
        "subscription_topic_changed",
        "body_too_large",
      ],
    }),
    get: operation("getSubscription", {
      summary: "A subscription with its stats",
      params: ["name"],
      ok: { 200: "Subscription" },
      errors: ["invalid_name", "subscription_not_found"],
    }),
    delete: operation("deleteSubscription", {
      summary: "Delete a subscription",
      params: ["name"],
      ok: { 204: null },
      errors: ["invalid_name", "subscription_not_found"],
    }),
  },
  "/v1/subscriptions/{name}/pull": {
    post: operation("pull", {
      summary: "Lease deliveries (long poll up to waitMs)",
      params: ["name"],
      body: "PullRequest",
      ok: { 200: "PullResponse" },
      errors: SUB_ERRORS,
    }),
  },
  "/v1/subscriptions/{name}/ack": {
    post: settle("ack", "AckRequest", "An ack answered `ok` is durable."),
  },
  "/v1/subscriptions/{name}/nack": {
    post: settle("nack", "NackRequest", "Redelivered after delayMs, or after the backoff."),
  },
  "/v1/subscriptions/{name}/extend": {
    post: settle("extend", "ExtendRequest", "Renews each lease."),
  },
  "/v1/subscriptions/{name}/reject": {
    post: settle("reject", "RejectRequest", "Moves each event to the dead-letter topic."),
  },
  "/v1/subscriptions/{name}/seek": {
    post: operation("seek", {
      summary: "Move this subscription's position",
      params: ["name"],
      body: "SeekRequest",
      ok: { 200: "SeekResponse" },
      errors: SUB_ERRORS,
    }),
  },
  "/v1/subscriptions/{name}/redrive": {
    post: operation("redrive", {
      summary: "Re-enqueue dead letters of this subscription",
      description:
        "202 with the job id and counts; a dry run moves nothing and answers 200 with `redrive: null`.",
      params: ["name"],
      body: "RedriveRequest",
      ok: { 200: "RedriveStarted", 202: "RedriveStarted" },
      errors: [...SUB_ERRORS, "invalid_filter"],
    }),
  },
  "/v1/subscriptions/{name}/redrives/{id}": {
    get: operation("getRedrive", {
      summary: "A redrive job's state",
      description:
        "Kept for 7 days, answered on every node; a job whose router stopped reads `failed` with `moved` so far (redriving again is safe).",
      params: ["name", "id"],
      ok: { 200: "RedriveJob" },
      errors: ["invalid_name", "subscription_not_found", "redrive_not_found"],
    }),
  },
  "/v1/subscriptions/{name}/pause": {
    post: operation("pauseSubscription", {
      summary: "Stop pushing until resume (durable)",
      description:
        "Requests in flight finish; nothing new is sent. A 410 Gone answer from the endpoint pauses the same way. A pull subscription answers 409.",
      params: ["name"],
      body: "PauseRequest",
      ok: { 200: "Subscription" },
      errors: [...SUB_ERRORS, "conflict"],
    }),
  },
  "/v1/subscriptions/{name}/resume": {
    post: operation("resumeSubscription", {
      summary: "Resume pushing a paused subscription",
      params: ["name"],
      ok: { 200: "Subscription" },
      errors: [...SUB_ERRORS, "conflict"],
    }),
  },
  "/v1/subscriptions/{name}/attempts": {
    get: operation("listAttempts", {
      summary: "The push attempt log, newest first",
      description:
        "Every push attempt, recorded in the same commit as the delivery state it changed. Bounded retention: the newest 10,000 per subscription.",
      params: ["name"],
      query: [
        q("eventId", { type: "string" }, "only this event's attempts"),
        q("limit", { type: "integer", minimum: 1, maximum: 1_000, default: 100 }, "at most"),
      ],
      ok: { 200: "AttemptList" },
      errors: ["invalid_name", "invalid_request", "subscription_not_found"],
    }),
  },
  "/v1/subscriptions/{name}/stream": {
    get: operation("stream", {
      summary: "WebSocket stream of deliveries with credit-based flow control",
      description:
        "JSON text frames. The client sends `StreamClientFrame`s: `credit` allows that many more deliveries; ack/nack/extend/reject settle (an optional `id` is echoed). The server sends `StreamServerFrame`s and never more deliveries than the outstanding credit. A bad frame answers an `error` frame and the stream stays open. Closes with 1001 on shutdown, 4404 when the subscription is deleted, 4401 when the key or dashboard session it was opened with ends, and 1013 (reason `engine_unavailable: …`) when this router's view of keys or sessions is more than 5 s stale (reconnect with backoff). Leases held by a closed stream expire and are redelivered. A request without upgrade answers 426.",
      params: ["name"],
      ok: { 101: null },
      errors: ["invalid_name", "subscription_not_found", "upgrade_required"],
    }),
  },
  "/v1/keys": {
    post: operation("createKey", {
      summary: "Create an API key (admin); the answer is the only one that shows the whole key",
      body: "KeyInput",
      ok: { 201: "KeyCreated" },
      errors: ["invalid_json", "invalid_request", "body_too_large"],
    }),
    get: operation("listKeys", {
      summary: "The live keys (admin); never a secret or a hash",
      ok: { 200: "KeyList" },
      errors: [],
    }),
  },
  "/v1/keys/self": {
    get: operation("keySelf", {
      summary: "The key this request authenticated with (any key)",
      ok: { 200: "KeySelf" },
      errors: [],
    }),
  },
  "/ui/session": {
    post: operation("createSession", {
      summary:
        "Sign the dashboard in with a key: sets an HttpOnly, SameSite=Strict session cookie (12 h, 1 h idle)",
      body: "SessionInput",
      ok: { 200: "Session" },
      errors: ["invalid_json", "invalid_request", "csrf_failed", "conflict"],
    }),
    get: operation("getSession", {
      summary: "The current dashboard session (its cookie); 401 without one",
      ok: { 200: "Session" },
      errors: ["csrf_failed"],
    }),
    delete: operation("endSession", {
      summary: "End the dashboard session and clear its cookie",
      ok: { 204: null },
      errors: ["csrf_failed"],
    }),
  },
  "/v1/keys/{id}": {
    delete: operation("revokeKey", {
      summary:
        "Revoke a key (admin): it fails on every node within 1 s, its streams close with 4401",
      params: ["id"],
      ok: { 204: null },
      errors: ["key_not_found"],
    }),
  },
  "/ui/{path}": {
    get: {
      ...operation("dashboardFile", {
        summary:
          "The dashboard's static files (open; no data): hashed assets are immutable, any other page path answers index.html",
        ok: { 200: null },
        errors: ["route_not_found"],
      }),
      parameters: [
        {
          name: "path",
          in: "path",
          required: true,
          description: "A file of the build or a page of the dashboard (may contain `/`)",
          schema: { type: "string" },
        },
      ],
    },
  },
  "/healthz": { get: operation("health", { summary: "Alive", ok: { 200: "Status" }, errors: [] }) },
  "/readyz": {
    get: operation("ready", {
      summary: "The engine serves reads and writes",
      ok: { 200: "Status" },
      errors: [],
    }),
  },
  "/metrics": {
    get: {
      ...operation("metrics", { summary: "Prometheus metrics", ok: {}, errors: [] }),
      responses: {
        200: {
          description: "Prometheus text format",
          content: { "text/plain": { schema: { type: "string" } } },
        },
        ...errorResponses([]),
      },
    },
  },
  "/v1/info": {
    get: operation("info", {
      summary: "Version, engine and its capabilities",
      ok: { 200: "Info" },
      errors: [],
    }),
  },
  "/v1/topics/{topic}/scheduled": {
    get: operation("listScheduled", {
      summary: "A topic's pending scheduled events, in deliverat order",
      description:
        "Events published with a future `deliverat` wait here until that time, then are appended (and leave this list). `next` is absent on the last page; pass it as `after` for the next one.",
      params: ["topic"],
      query: [
        q("limit", { type: "integer", minimum: 1, maximum: 1_000, default: 100 }, "page size"),
        q("after", { type: "string" }, "the previous page's `next` (opaque)"),
      ],
      ok: { 200: "ScheduledPage" },
      errors: ["invalid_name", "invalid_request", "topic_not_found"],
    }),
  },
  "/v1/topics/{topic}/scheduled/{id}": {
    delete: operation("cancelScheduled", {
      summary: "Cancel a pending scheduled event",
      description:
        "`source` may be left out when one pending event has this id (else 409 `conflict`). 404 `scheduled_not_found` once the event was appended (decided atomically with its firing), cancelled, or never scheduled.",
      params: ["topic", "id"],
      query: [q("source", { type: "string" }, "the event's source")],
      ok: { 204: null },
      errors: [
        "invalid_name",
        "invalid_request",
        "topic_not_found",
        "scheduled_not_found",
        "conflict",
      ],
    }),
  },
  "/v1/flows/{correlationid}": {
    get: operation("getFlow", {
      summary: "One correlation id's events across topics indexed by correlationid",
      description:
        "Events in append order, with causation edges (`causationid` → `id`) between events of the answer. Events of topics the key may not read are left out and counted in `hidden`; an unknown id answers no events. 409 `index_missing` while a topic's `correlationid` index is still being built (see its `stats.indexes`).",
      params: ["correlationid"],
      query: [
        q(
          "limit",
          { type: "integer", minimum: 1, maximum: 10_000, default: 1_000 },
          "at most this many events",
        ),
      ],
      ok: { 200: "Flow" },
      errors: ["invalid_request", "index_missing"],
    }),
  },
  "/openapi.json": {
    get: {
      ...operation("openapi", { summary: "This document", ok: {}, errors: [] }),
      responses: {
        200: {
          description: "OpenAPI 3.1",
          content: { "application/json": { schema: { type: "object" } } },
        },
        ...errorResponses([]),
      },
    },
  },
};

/**
 * Codes any request may answer whatever its route: unknown routes and methods, and requests
 * the HTTP parser refuses (malformed: `invalid_request`; too slow; headers too large).
 */
export const ROUTING_ERRORS: readonly ErrorCode[] = [
  "route_not_found",
  "method_not_allowed",
  "headers_too_large",
];

/** Each operation gets `x-switchyard-scope` from the route table the server enforces. */
function withScopes(paths: Json): Json {
  const out: Json = {};
  for (const [path, ops] of Object.entries(paths)) {
    // `/ui/{path}` is Fastify's wildcard `/ui/*` (its value spans segments).
    const url = path.replace("{path}", "*").replace(/\{([A-Za-z]+)\}/g, ":$1");
    const scoped: Json = {};
    for (const [method, op] of Object.entries(ops as Json)) {
      const rule = ROUTE_SCOPES.get(`${method.toUpperCase()} ${url}`);
      scoped[method] = { ...(op as Json), "x-switchyard-scope": rule?.label ?? "undeclared" };
    }
    out[path] = scoped;
  }
  return out;
}

export function openApiDocument(version: string): Json {
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchyard HTTP API",
      version,
      description:
        "Every error is application/problem+json (RFC 9457) with a stable `code`; see docs/errors.md. Unknown routes answer 404 `route_not_found`, known routes with another method 405 `method_not_allowed`; a request that is not valid HTTP/1.1 answers 400 `invalid_request`, one whose headers exceed the size limit 431 `headers_too_large`, one that arrives too slowly 408 `request_timeout`.",
    },
    servers: [{ url: "http://127.0.0.1:8420" }],
    paths: withScopes({ ...PATHS, ...REGISTRY_PATHS, ...DISCOVERY_PATHS }),
    components: { schemas: { ...SCHEMAS, ...REGISTRY_SCHEMAS, ...DISCOVERY_SCHEMAS } },
  };
}
