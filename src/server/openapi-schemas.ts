import { ERROR_CATALOGUE } from "../core/errors.js";

// JSON Schema (2020-12, as OpenAPI 3.1 uses) of every body the API reads or writes.

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const int = (minimum: number, maximum?: number, extra: Schema = {}): Schema => ({
  type: "integer",
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
  ...extra,
});
const obj = (
  properties: Record<string, Schema>,
  required: string[] = [],
  extra: Schema = {},
): Schema => ({
  type: "object",
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...extra,
});
const str = (extra: Schema = {}): Schema => ({ type: "string", ...extra });
const arrayOf = (items: Schema, extra: Schema = {}): Schema => ({ type: "array", items, ...extra });
const ackIds = arrayOf(str(), {
  minItems: 1,
  maxItems: 10_000,
  description: "ackIds from deliveries",
});

const pushTuning: Record<string, Schema> = {
  batch: {
    oneOf: [
      obj({
        maxEvents: int(1, 10_000, { default: 100 }),
        maxBytes: int(1_024, 16_777_216, { default: 1_048_576 }),
        lingerMs: int(0, 60_000, { default: 0 }),
      }),
      { type: "null" },
    ],
    description: "send application/cloudevents-batch+json requests",
  },
  ratePerSecond: {
    type: ["number", "null"],
    exclusiveMinimum: 0,
    description: "requests per second at most",
  },
  maxAgeMs: {
    type: ["integer", "null"],
    minimum: 1_000,
    description: "dead-letter failed events older than this",
  },
  onClientError: { enum: ["retry", "dead-letter"], default: "retry" },
};

const problem: Record<string, Schema> = {
  FieldError: obj(
    {
      pointer: str({
        description:
          "JSON Pointer into the body, or `header:<name>`, `query:<name>`, `path:<name>`",
      }),
      message: str(),
    },
    ["pointer", "message"],
  ),
  Problem: obj(
    {
      type: str({ format: "uri" }),
      title: str(),
      status: { type: "integer" },
      detail: str(),
      code: { type: "string", enum: Object.keys(ERROR_CATALOGUE) },
      errors: arrayOf(ref("FieldError")),
      currentVersion: {
        ...int(0),
        description: "version_conflict: the version the subject's stream is at",
      },
    },
    ["type", "title", "status", "detail", "code", "errors"],
  ),
};

const events: Record<string, Schema> = {
  CloudEvent: obj(
    {
      specversion: { const: "1.0" },
      id: str({ description: "filled in (UUID v7) when missing" }),
      source: str(),
      type: str(),
      time: str({ format: "date-time", description: "filled in when missing" }),
      subject: str(),
      datacontenttype: str(),
      dataschema: str(),
      data: {},
      data_base64: str(),
      partitionkey: str({ description: "ordering key" }),
      correlationid: str(),
      causationid: str(),
    },
    ["specversion", "source", "type"],
    { additionalProperties: { type: ["string", "integer", "boolean", "null"] } },
  ),
  StoredEvent: {
    allOf: [
      ref("CloudEvent"),
      obj(
        {
          offset: int(1),
          topic: str(),
          appendedat: str({ format: "date-time" }),
          subjectversion: {
            ...int(1),
            description: "the event's place in its subject's stream, on topics indexed by subject",
          },
        },
        ["offset", "topic", "appendedat", "id", "time"],
      ),
    ],
  },
  PublishEntry: {
    oneOf: [
      obj({ id: str(), offset: int(1), duplicate: { type: "boolean" }, subjectversion: int(1) }, [
        "id",
        "offset",
        "duplicate",
      ]),
      obj(
        {
          id: str(),
          scheduled: { const: true },
          deliverat: { type: "string", format: "date-time" },
          duplicate: { type: "boolean" },
        },
        ["id", "scheduled", "deliverat", "duplicate"],
      ),
      obj({ id: str(), error: ref("Problem") }, ["id", "error"]),
    ],
  },
  ScheduledEvent: obj(
    {
      id: str(),
      source: str(),
      deliverat: { type: "string", format: "date-time" },
      event: ref("CloudEvent"),
    },
    ["id", "source", "deliverat", "event"],
  ),
  ScheduledPage: obj({ scheduled: arrayOf(ref("ScheduledEvent")), next: str() }, ["scheduled"]),
  PublishResponse: obj({ events: arrayOf(ref("PublishEntry")) }, ["events"]),
  EventsPage: obj({ events: arrayOf(ref("StoredEvent")), next: int(1) }, ["events", "next"]),
  SubjectEvents: obj(
    {
      events: arrayOf(ref("StoredEvent")),
      version: { ...int(0), description: "the stream's current version (0: unknown subject)" },
      firstVersion: { ...int(1), description: "the first version retention still keeps" },
      next: { ...int(1), description: "the last returned version + 1" },
    },
    ["events", "version", "firstVersion", "next"],
  ),
  FlowEdge: obj({ from: str(), to: str() }, ["from", "to"]),
  Flow: obj(
    {
      events: arrayOf(ref("StoredEvent")),
      edges: arrayOf(ref("FlowEdge")),
      hidden: int(0),
      truncated: { type: "boolean" },
    },
    ["events", "edges", "hidden", "truncated"],
  ),
};

const topics: Record<string, Schema> = {
  Retention: obj({ maxAgeMs: int(1), maxBytes: int(1), maxEvents: int(1) }, [], {
    additionalProperties: false,
  }),
  TopicSchemas: obj(
    {
      mode: {
        enum: ["off", "warn", "enforce"],
        default: "off",
        description:
          "enforce: an event failing its type's schema rejects the request (422); warn: appended and counted in switchyard_schema_violations_total; off: nothing checked",
      },
      allowUnregisteredTypes: {
        type: "boolean",
        default: true,
        description: "false: an event of a type with no schema answers 422 schema_unknown_type",
      },
    },
    [],
    { additionalProperties: false },
  ),
  TopicInput: obj(
    {
      retention: ref("Retention"),
      dedupeWindowMs: int(0, 604_800_000, { default: 300_000 }),
      maxEventBytes: int(1, 67_108_864, { default: 1_048_576 }),
      schemas: {
        ...ref("TopicSchemas"),
        description: "validation on publish; left out of an update, the stored setting is kept",
      },
      indexes: ref("TopicIndexes"),
    },
    [],
  ),
  TopicIndexes: {
    type: "array",
    items: { enum: ["subject", "correlationid"] },
    uniqueItems: true,
    default: [],
    description:
      'indexes to keep (a write per event each): "correlationid" answers GET /v1/flows/{correlationid}; "subject" numbers the events of each subject (subjectversion, expectedVersion, GET /v1/topics/{topic}/subjects/{subject}/events); left out of an update, the indexes are dropped',
  },
  IndexState: obj({ state: { enum: ["building", "ready"] }, remaining: int(0) }, [
    "state",
    "remaining",
  ]),
  TopicStats: obj(
    {
      events: int(0),
      bytes: int(0),
      firstOffset: int(1),
      lastOffset: int(0),
      indexes: obj({ subject: ref("IndexState"), correlationid: ref("IndexState") }, []),
    },
    ["events", "bytes", "firstOffset", "lastOffset"],
  ),
  Topic: obj(
    {
      name: str(),
      retention: ref("Retention"),
      dedupeWindowMs: int(0),
      maxEventBytes: int(1),
      owner: {
        enum: ["router", null],
        description:
          '"router" for a router-owned topic (a dead-letter topic, `switchyard.*`): only the router appends to it',
      },
      schemas: ref("TopicSchemas"),
      indexes: ref("TopicIndexes"),
      stats: ref("TopicStats"),
    },
    ["name", "retention", "dedupeWindowMs", "maxEventBytes", "owner", "schemas", "indexes"],
  ),
  TopicList: obj({ topics: arrayOf(ref("Topic")) }, ["topics"]),
};

const filterMap = { type: "object", additionalProperties: { type: "string" }, minProperties: 1 };
const subscriptions: Record<string, Schema> = {
  Filter: {
    description:
      "CloudEvents Subscriptions API dialects; properties are attribute names or `data.` paths",
    oneOf: [
      obj({ exact: filterMap }, ["exact"]),
      obj({ prefix: filterMap }, ["prefix"]),
      obj({ suffix: filterMap }, ["suffix"]),
      obj({ all: arrayOf(ref("Filter"), { minItems: 1 }) }, ["all"]),
      obj({ any: arrayOf(ref("Filter"), { minItems: 1 }) }, ["any"]),
      obj({ not: ref("Filter") }, ["not"]),
    ],
  },
  StartPosition: {
    oneOf: [
      { enum: ["earliest", "latest"] },
      obj({ offset: int(0) }, ["offset"]),
      obj({ time: str({ format: "date-time" }) }, ["time"]),
    ],
  },
  Backoff: obj({
    initialMs: int(0, 86_400_000, { default: 1_000 }),
    maxMs: int(0, 604_800_000, { default: 600_000 }),
    multiplier: { type: "number", minimum: 1, maximum: 100, default: 2 },
  }),
  PushInput: obj(
    {
      url: str({ format: "uri", description: "http or https" }),
      headers: {
        type: "object",
        additionalProperties: { type: "string" },
        description:
          "write-only (answers show headerNames); omitted on update keeps the stored headers, given replaces them whole",
      },
      timeoutMs: int(1, 300_000, { default: 10_000 }),
      mode: { enum: ["binary", "structured"], default: "binary" },
      secrets: arrayOf(str({ pattern: "^whsec_[A-Za-z0-9+/]+={0,2}$" }), {
        maxItems: 10,
        description: "write-only; omitted on update keeps the stored secrets",
      }),
      secret: str({
        pattern: "^whsec_[A-Za-z0-9+/]+={0,2}$",
        description: "shorthand for one secret",
      }),
      ...pushTuning,
    },
    ["url"],
  ),
  Push: obj(
    {
      url: str(),
      headerNames: arrayOf(str(), {
        description: "names of the push headers, sorted; values are write-only",
      }),
      timeoutMs: int(1),
      mode: { enum: ["binary", "structured"] },
      secretCount: int(0),
      ...pushTuning,
    },
    ["url", "headerNames", "timeoutMs", "mode", "secretCount"],
  ),
  PushHealth: obj(
    {
      circuit: { enum: ["closed", "open", "half-open"] },
      consecutiveFailures: int(0),
      pausedReason: str(),
      pausedAt: str({ format: "date-time" }),
    },
    ["circuit", "consecutiveFailures"],
  ),
  PauseRequest: obj({ reason: str({ maxLength: 1_000 }) }),
  Attempt: obj(
    {
      eventId: str(),
      offset: int(1),
      attempt: int(1),
      at: str({ format: "date-time" }),
      status: { type: ["integer", "null"], description: "null when no HTTP answer came" },
      latencyMs: int(0),
      error: str(),
      response: str({ description: "the first bytes of the endpoint's answer" }),
    },
    ["eventId", "offset", "attempt", "at", "status", "latencyMs"],
  ),
  AttemptList: obj({ attempts: arrayOf(ref("Attempt")) }, ["attempts"]),
  SubscriptionInput: obj(
    {
      topic: str(),
      filter: { oneOf: [ref("Filter"), { type: "null" }] },
      start: ref("StartPosition"),
      ackTimeoutMs: int(10, 43_200_000, { default: 30_000 }),
      maxAttempts: int(1, 1_000, { default: 10 }),
      backoff: ref("Backoff"),
      deadLetterTopic: str({ description: "default `{topic}.{name}.dlq`, created automatically" }),
      ordering: { enum: ["none", "key"], default: "none" },
      maxInFlight: int(1, 100_000, { default: 1_000 }),
      push: { oneOf: [ref("PushInput"), { type: "null" }] },
    },
    ["topic"],
  ),
  SubscriptionStats: obj(
    {
      position: int(1),
      lag: int(0),
      inFlight: int(0),
      delivered: int(0),
      acked: int(0),
      deadLettered: int(0),
      oldestUnackedAgeMs: int(0),
    },
    ["lag", "inFlight", "delivered", "acked", "deadLettered", "oldestUnackedAgeMs"],
  ),
  Subscription: obj(
    {
      name: str(),
      topic: str(),
      filter: { oneOf: [ref("Filter"), { type: "null" }] },
      start: ref("StartPosition"),
      ackTimeoutMs: int(1),
      maxAttempts: int(1),
      backoff: ref("Backoff"),
      deadLetterTopic: str(),
      ordering: { enum: ["none", "key"] },
      maxInFlight: int(1),
      push: { oneOf: [ref("Push"), { type: "null" }] },
      stats: ref("SubscriptionStats"),
      state: { enum: ["healthy", "degraded", "paused"], description: "push subscriptions only" },
      health: ref("PushHealth"),
    },
    [
      "name",
      "topic",
      "filter",
      "ackTimeoutMs",
      "maxAttempts",
      "backoff",
      "deadLetterTopic",
      "ordering",
      "maxInFlight",
      "push",
    ],
  ),
  SubscriptionList: obj({ subscriptions: arrayOf(ref("Subscription")) }, ["subscriptions"]),
};

const delivery: Record<string, Schema> = {
  PullRequest: obj({
    max: int(1, 1_000, { default: 100 }),
    waitMs: int(0, 60_000, { default: 0 }),
  }),
  Delivery: obj({ ackId: str(), attempt: int(1), event: ref("StoredEvent") }, [
    "ackId",
    "attempt",
    "event",
  ]),
  PullResponse: obj({ deliveries: arrayOf(ref("Delivery")) }, ["deliveries"]),
  AckRequest: obj({ ackIds }, ["ackIds"]),
  NackRequest: obj(
    { ackIds, delayMs: int(0, 604_800_000, { description: "without it the backoff applies" }) },
    ["ackIds"],
  ),
  ExtendRequest: obj(
    {
      ackIds,
      leaseMs: int(10, 43_200_000, { description: "default: the subscription's ackTimeoutMs" }),
    },
    ["ackIds"],
  ),
  RejectRequest: obj({ ackIds, reason: str({ minLength: 1, maxLength: 1_000 }) }, [
    "ackIds",
    "reason",
  ]),
  SettleResponse: obj(
    {
      results: arrayOf(
        obj({ ackId: str(), status: { enum: ["ok", "unknown", "expired"] } }, ["ackId", "status"]),
      ),
    },
    ["results"],
  ),
  SeekRequest: obj({ to: ref("StartPosition") }, ["to"]),
  SeekResponse: obj({ position: int(1) }, ["position"]),
  RedriveRequest: obj({
    ids: arrayOf(str(), { minItems: 1 }),
    filter: ref("Filter"),
    limit: int(1, 10_000_000),
    dryRun: { type: "boolean" },
    chunkSize: int(1, 10_000, { default: 1_000, description: "events moved per step" }),
    ratePerSecond: {
      type: "number",
      exclusiveMinimum: 0,
      description: "events per second at most",
    },
    actor: str({ maxLength: 200, description: "who asks, for the audit record" }),
  }),
  RedriveStarted: obj(
    {
      redrive: { type: ["string", "null"], description: "null for a dry run" },
      matched: int(0),
      keys: int(0),
    },
    ["redrive", "matched", "keys"],
  ),
  RedriveJob: obj(
    {
      redrive: str(),
      state: { enum: ["running", "done", "failed"] },
      matched: int(0),
      keys: int(0),
      moved: int(0),
      error: str(),
      actor: { type: ["string", "null"] },
      startedAt: str({ format: "date-time" }),
      finishedAt: str({ format: "date-time" }),
    },
    ["state", "matched", "moved"],
  ),
  StreamClientFrame: {
    oneOf: [
      obj({ type: { const: "credit" }, n: int(1, 10_000_000) }, ["type", "n"]),
      obj(
        {
          type: { enum: ["ack", "nack", "extend", "reject"] },
          id: { type: ["string", "integer"] },
          ackIds,
          delayMs: int(0),
          leaseMs: int(10),
          reason: str(),
        },
        ["type", "ackIds"],
      ),
    ],
  },
  StreamServerFrame: {
    oneOf: [
      obj({ type: { const: "deliveries" }, deliveries: arrayOf(ref("Delivery")) }, [
        "type",
        "deliveries",
      ]),
      obj(
        {
          type: { const: "results" },
          op: str(),
          id: { type: ["string", "integer"] },
          results: ref("SettleResponse/properties/results"),
        },
        ["type", "results"],
      ),
      obj(
        { type: { const: "error" }, id: { type: ["string", "integer"] }, problem: ref("Problem") },
        ["type", "problem"],
      ),
    ],
  },
};

const ops: Record<string, Schema> = {
  Info: obj(
    {
      name: str(),
      version: str(),
      engine: str(),
      capabilities: obj({ atomicBatch: { type: "boolean" } }, ["atomicBatch"]),
      limits: obj({ maxBodyBytes: int(1), maxBatchEvents: int(1) }),
    },
    ["name", "version"],
  ),
  Status: obj({ status: str(), engine: str() }, ["status"]),
};

const scopes = arrayOf(
  str({
    pattern: "^(admin|metrics|(manage|schemas|publish|read|consume):.+)$",
    description:
      "admin, metrics, or manage:|schemas:|publish:|read:|consume: and a glob (`*`: any run of characters)",
  }),
  { minItems: 1, maxItems: 100 },
);
const time = str({ format: "date-time" });
const nullableTime = { type: ["string", "null"], format: "date-time" };
const rateLimit = obj({
  requestsPerSec: { type: "number", exclusiveMinimum: 0 },
  eventsPerSec: { type: "number", exclusiveMinimum: 0 },
});
const keyFields = {
  id: str({ pattern: "^[a-z0-9]{16}$" }),
  name: str({ minLength: 1, maxLength: 64 }),
  scopes,
  expiresAt: nullableTime,
};

const keys: Record<string, Schema> = {
  KeyInput: obj({ name: keyFields.name, scopes, expiresAt: time, rateLimit }, ["name", "scopes"], {
    additionalProperties: false,
  }),
  KeyCreated: obj(
    {
      ...keyFields,
      createdAt: time,
      key: str({ description: "The whole key, sy_<id>_<secret>: shown in this answer only" }),
    },
    ["id", "name", "scopes", "key", "createdAt", "expiresAt"],
  ),
  Key: obj({ ...keyFields, createdAt: time, lastUsedAt: nullableTime, rateLimit }, [
    "id",
    "name",
    "scopes",
    "createdAt",
    "expiresAt",
    "lastUsedAt",
  ]),
  KeyList: obj({ keys: arrayOf(ref("Key")) }, ["keys"]),
  KeySelf: obj(keyFields, ["id", "name", "scopes", "expiresAt"]),
  SessionInput: obj({ key: str({ description: "An API key, sy_<id>_<secret>" }) }, ["key"], {
    additionalProperties: false,
  }),
  Session: obj(
    {
      csrf: str({ description: "Send it as X-Switchyard-CSRF with every cookie request" }),
      expiresAt: time,
      key: obj({ id: keyFields.id, name: keyFields.name, scopes }, ["id", "name", "scopes"]),
    },
    ["csrf", "expiresAt", "key"],
  ),
};

export const SCHEMAS: Record<string, Schema> = {
  ...problem,
  ...events,
  ...topics,
  ...subscriptions,
  ...delivery,
  ...ops,
  ...keys,
};
