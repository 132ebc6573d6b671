import { type FieldError, SwitchyardError } from "./errors.js";

/** A CloudEvent 1.0 in its structured JSON form (data as JSON, or `data_base64`). */
export interface CloudEvent {
  readonly specversion: "1.0";
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time?: string;
  readonly subject?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly data?: unknown;
  readonly data_base64?: string;
  readonly [extension: string]: unknown;
}

/** A CloudEvent as read back from a topic: the router adds `offset`, `topic`, `appendedat`. */
export interface StoredEvent extends CloudEvent {
  readonly offset: number;
  readonly topic: string;
  readonly appendedat: string;
  /** On topics indexed by `subject`: the event's place in its subject's stream. */
  readonly subjectversion?: number;
}

/** Attribute names the router writes on stored events; a published event must not carry them. */
export const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set([
  "offset",
  "topic",
  "appendedat",
  "subjectversion",
]);
/** Dead letters carry `deadletterreason`, `deadlettersubscription`, ...: the whole prefix is the router's. */
export const RESERVED_ATTRIBUTE_PREFIX = "deadletter";

/** Whether `name` is router metadata a published event must not carry. */
export function isReservedAttribute(name: string): boolean {
  return RESERVED_ATTRIBUTES.has(name) || name.startsWith(RESERVED_ATTRIBUTE_PREFIX);
}

/** The ordering-key extension (CloudEvents partitioning extension). */
export const PARTITION_KEY = "partitionkey";

/**
 * Whether a `datacontenttype` (or binary-mode `Content-Type`) names JSON: `application/json`,
 * `text/json` or any `+json` type, parameters and case ignored.
 */
export function isJsonMediaType(contentType: string): boolean {
  const media = (contentType.split(";", 1)[0] ?? "").trim().toLowerCase();
  return media === "application/json" || media === "text/json" || media.endsWith("+json");
}

const CONTEXT_ATTRIBUTES = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "subject",
  "datacontenttype",
  "dataschema",
]);
const OPTIONAL_STRINGS = ["subject", "datacontenttype", "dataschema", "data_base64"] as const;
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
// RFC 3339 date-time, as CloudEvents requires for `time`.
export const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkRequiredString(
  event: Record<string, unknown>,
  name: string,
  at: string,
  errors: FieldError[],
): void {
  const value = event[name];
  if (value === undefined) errors.push({ pointer: `${at}/${name}`, message: "is required" });
  else if (typeof value !== "string" || value.length === 0)
    errors.push({ pointer: `${at}/${name}`, message: "must be a non-empty string" });
}

function checkOptionalString(
  event: Record<string, unknown>,
  name: string,
  at: string,
  errors: FieldError[],
): void {
  const value = event[name];
  if (value !== undefined && typeof value !== "string")
    errors.push({ pointer: `${at}/${name}`, message: "must be a string" });
}

function checkExtension(name: string, value: unknown, at: string, errors: FieldError[]): void {
  if (isReservedAttribute(name)) {
    errors.push({
      pointer: `${at}/${name}`,
      message: `"${name}" is reserved for the router's own metadata`,
    });
  } else if (!EXTENSION_NAME.test(name)) {
    errors.push({
      pointer: `${at}/${name}`,
      message: "extension attribute names are 1-20 lowercase letters or digits",
    });
  } else if (
    value !== null &&
    typeof value !== "string" &&
    typeof value !== "boolean" &&
    !(typeof value === "number" && Number.isInteger(value))
  ) {
    errors.push({
      pointer: `${at}/${name}`,
      message: "extension values must be strings, booleans or integers",
    });
  }
}

/**
 * Validates one structured CloudEvent and returns its field errors (empty when valid).
 * `at` is the JSON Pointer of the event inside the request body ("" or "/3").
 * `id` and `time` may be missing: the router fills them in. The errors are pushed onto
 * `errors` and it is returned: a caller validating many events can pass one empty array
 * again and again (emptying it after a failure) instead of allocating one per event.
 */
export function cloudEventErrors(input: unknown, at = "", errors: FieldError[] = []): FieldError[] {
  if (!isRecord(input)) {
    errors.push({ pointer: at || "/", message: "a CloudEvent must be a JSON object" });
    return errors;
  }
  if (input.specversion === undefined)
    errors.push({ pointer: `${at}/specversion`, message: "is required" });
  else if (input.specversion !== "1.0")
    errors.push({ pointer: `${at}/specversion`, message: 'must be "1.0"' });
  if (input.id !== undefined) checkRequiredString(input, "id", at, errors);
  checkRequiredString(input, "source", at, errors);
  checkRequiredString(input, "type", at, errors);
  for (const name of OPTIONAL_STRINGS) checkOptionalString(input, name, at, errors);
  if (input.time !== undefined && (typeof input.time !== "string" || !RFC3339.test(input.time)))
    errors.push({ pointer: `${at}/time`, message: "must be an RFC 3339 timestamp" });
  if (input.data !== undefined && input.data_base64 !== undefined)
    errors.push({
      pointer: `${at}/data_base64`,
      message: "an event has data or data_base64, not both",
    });
  // for-in over own names lists what Object.keys would, without an array per event.
  for (const name in input) {
    if (!Object.hasOwn(input, name)) continue;
    if (CONTEXT_ATTRIBUTES.has(name) || name === "data" || name === "data_base64") continue;
    checkExtension(name, input[name], at, errors);
  }
  return errors;
}

/** The event's ordering key, or null when it has none. */
export function partitionKeyOf(event: CloudEvent): string | null {
  const key = event[PARTITION_KEY];
  if (key === undefined || key === null) return null;
  return String(key);
}

/** Throws `invalid_event` unless `input` is a valid CloudEvent. */
export function assertCloudEvent(input: unknown, at = ""): asserts input is CloudEvent {
  const errors = cloudEventErrors(input, at);
  if (errors.length === 0) return;
  const reserved = errors.some((e) => e.message.includes("reserved"));
  throw new SwitchyardError(
    reserved ? "reserved_attribute" : "invalid_event",
    errors.length === 1 && errors[0]
      ? `${errors[0].pointer}: ${errors[0].message}`
      : `${errors.length} attributes are invalid`,
    { errors },
  );
}
