import {
  type RetentionConfig,
  SCHEMA_MODES,
  type SchemaMode,
  TOPIC_DEFAULTS,
  TOPIC_INDEXES,
  TOPIC_SCHEMAS_DEFAULT,
  type TopicConfig,
  type TopicIndex,
  type TopicSchemas,
} from "../core/config.js";
import { assertTopicName } from "../core/names.js";
import {
  bodyObject,
  FieldErrors,
  type JsonObject,
  readInt,
  readObject,
  rejectUnknown,
} from "./fields.js";

export const TOPIC_BOUNDS = {
  maxAgeMs: { min: 1, max: 100 * 365 * 86_400_000 },
  maxBytes: { min: 1, max: 2 ** 50 },
  maxEvents: { min: 1, max: 2 ** 50 },
  dedupeWindowMs: { min: 0, max: 7 * 86_400_000 },
  maxEventBytes: { min: 1, max: 64 * 1024 * 1024 },
} as const;

// `name`, `owner` and `stats` are what GET returns: accepted and ignored so a GET body can be
// PUT back (the router alone decides which topics it owns).
const TOPIC_FIELDS = new Set([
  "retention",
  "dedupeWindowMs",
  "maxEventBytes",
  "schemas",
  "indexes",
  "name",
  "owner",
  "stats",
]);
const RETENTION_FIELDS = new Set(["maxAgeMs", "maxBytes", "maxEvents"]);
const SCHEMAS_FIELDS = new Set(["mode", "allowUnregisteredTypes"]);

/** `schemas`, when the body has it; its own fields default to API.md's (`off`, true). */
function parseSchemas(body: JsonObject, errors: FieldErrors): TopicSchemas | undefined {
  const input = readObject(body, "schemas", "", errors);
  if (input === undefined) return undefined;
  rejectUnknown(input, SCHEMAS_FIELDS, "/schemas", errors);
  const { mode = TOPIC_SCHEMAS_DEFAULT.mode, allowUnregisteredTypes: allow } = input;
  if (!(SCHEMA_MODES as readonly unknown[]).includes(mode))
    errors.add("/schemas/mode", `must be one of ${SCHEMA_MODES.join(", ")}`);
  if (allow !== undefined && typeof allow !== "boolean")
    errors.add("/schemas/allowUnregisteredTypes", "must be a boolean");
  return {
    mode: mode as SchemaMode,
    allowUnregisteredTypes:
      typeof allow === "boolean" ? allow : TOPIC_SCHEMAS_DEFAULT.allowUnregisteredTypes,
  };
}

/** `indexes`: a set of index names. */
function parseIndexes(body: JsonObject, errors: FieldErrors): readonly TopicIndex[] {
  const input = body.indexes;
  if (input === undefined) return [];
  if (!Array.isArray(input)) {
    errors.add("/indexes", "must be an array");
    return [];
  }
  const indexes = new Set<TopicIndex>();
  input.forEach((value: unknown, i) => {
    if ((TOPIC_INDEXES as readonly unknown[]).includes(value)) indexes.add(value as TopicIndex);
    else errors.add(`/indexes/${i}`, `must be one of ${TOPIC_INDEXES.join(", ")}`);
  });
  return [...indexes];
}

function parseRetention(body: JsonObject, errors: FieldErrors): RetentionConfig {
  const input = readObject(body, "retention", "", errors);
  if (input === undefined) return {};
  rejectUnknown(input, RETENTION_FIELDS, "/retention", errors);
  const retention: { maxAgeMs?: number; maxBytes?: number; maxEvents?: number } = {};
  for (const key of RETENTION_FIELDS) {
    const value = readInt(
      input,
      key,
      "/retention",
      TOPIC_BOUNDS[key as keyof RetentionConfig],
      errors,
    );
    if (value !== undefined) retention[key as keyof RetentionConfig] = value;
  }
  return retention;
}

/**
 * A topic's config from a `PUT /v1/topics/{name}` body; omitted fields take API.md defaults,
 * but an omitted `schemas` stays absent: the engine then keeps the stored one.
 */
export function parseTopicConfig(name: string, body: unknown): TopicConfig {
  assertTopicName(name, "path:topic");
  const input = bodyObject(body);
  const errors = new FieldErrors();
  rejectUnknown(input, TOPIC_FIELDS, "", errors);
  const retention = parseRetention(input, errors);
  const dedupeWindowMs = readInt(input, "dedupeWindowMs", "", TOPIC_BOUNDS.dedupeWindowMs, errors);
  const maxEventBytes = readInt(input, "maxEventBytes", "", TOPIC_BOUNDS.maxEventBytes, errors);
  const schemas = parseSchemas(input, errors);
  const indexes = parseIndexes(input, errors);
  errors.check();
  return {
    name,
    retention,
    dedupeWindowMs: dedupeWindowMs ?? TOPIC_DEFAULTS.dedupeWindowMs,
    maxEventBytes: maxEventBytes ?? TOPIC_DEFAULTS.maxEventBytes,
    ...(schemas === undefined ? {} : { schemas }),
    ...(indexes.length === 0 ? {} : { indexes }),
  };
}

export function defaultTopicConfig(name: string): TopicConfig {
  return { name, retention: {}, ...TOPIC_DEFAULTS };
}
