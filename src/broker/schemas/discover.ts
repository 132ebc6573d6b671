/**
 * `POST /v1/schemas/{type}/infer`: a schema proposal from the newest events of one type in a
 * topic. Reads the log newest first in windows (`newest.ts`), folds each sample into the
 * inference and drops it: memory is one window plus the inference's summary, never the
 * topic. Registers nothing.
 */
import { SwitchyardError } from "../../core/errors.js";
import { isJsonMediaType } from "../../core/event.js";
import { assertEventType, assertTopicName } from "../../core/names.js";
import type { EventLog } from "../../engine/engine.js";
import { bodyObject, FieldErrors, readInt, readString, rejectUnknown } from "../fields.js";
import { SchemaInference } from "./infer.js";
import { type LogReader, newestRecords } from "./newest.js";
import type { JsonSchema } from "./types.js";

export interface InferLimits {
  readonly defaultLimit: number;
  readonly maxLimit: number;
  readonly maxScanned: number;
}

export const INFER_LIMITS: InferLimits = {
  /** Samples used when the request names no `limit`. */
  defaultLimit: 1_000,
  maxLimit: 10_000,
  /**
   * Events of the topic looked at, at most, newest first: a type that is rare in a long
   * topic answers with fewer samples (or none) instead of reading the whole log.
   */
  maxScanned: 100_000,
};

export interface Discovery {
  readonly schema: JsonSchema;
  /** Events whose `data` the proposal was inferred from. */
  readonly samples: number;
  /** Events of the type without JSON `data` (`data_base64`, a non-JSON content type, none). */
  readonly skipped: number;
  /** Events of the topic looked at, of any type. */
  readonly scanned: number;
}

interface DiscoverRequest {
  readonly type: string;
  readonly topic: string;
  readonly limit: number;
  readonly maxScanned: number;
}

const FIELDS = new Set(["topic", "limit"]);

export function parseDiscoverRequest(
  type: string,
  body: unknown,
  limits: InferLimits = INFER_LIMITS,
): DiscoverRequest {
  assertEventType(type);
  const input = bodyObject(body);
  const errors = new FieldErrors();
  rejectUnknown(input, FIELDS, "", errors);
  const topic = readString(input, "topic", "", errors, 200);
  if (topic === undefined && input.topic === undefined) errors.add("/topic", "is required");
  const range = { min: 1, max: limits.maxLimit };
  const limit = readInt(input, "limit", "", range, errors) ?? limits.defaultLimit;
  errors.check();
  assertTopicName(topic ?? "", "/topic");
  return { type, topic: topic ?? "", limit, maxScanned: limits.maxScanned };
}

/** The event's `data` when it is JSON (CloudEvents: no `datacontenttype` means JSON), else undefined. */
function jsonData(event: Record<string, unknown>): { readonly data: unknown } | undefined {
  if (!Object.hasOwn(event, "data")) return undefined;
  const contentType = event.datacontenttype;
  if (
    contentType !== undefined &&
    (typeof contentType !== "string" || !isJsonMediaType(contentType))
  )
    return undefined;
  return { data: event.data };
}

type TopicLogReader = LogReader & Pick<EventLog, "getTopic">;

class Scan {
  readonly inference = new SchemaInference();
  skipped = 0;
  scanned = 0;
  readonly #type: string;
  // Bodies are the router's own JSON.stringify output and type names need no escapes: an
  // event of the type contains this text, so most others are passed over without parsing.
  readonly #needle: string;

  constructor(type: string) {
    this.#type = type;
    this.#needle = JSON.stringify(type);
  }

  take(body: string): void {
    this.scanned++;
    if (!body.includes(this.#needle)) return;
    const event = JSON.parse(body) as Record<string, unknown>;
    if (event.type !== this.#type) return;
    const json = jsonData(event);
    if (json === undefined) this.skipped++;
    else this.inference.add(json.data);
  }
}

export async function discoverSchema(
  log: TopicLogReader,
  type: string,
  body: unknown,
  limits: InferLimits = INFER_LIMITS,
): Promise<Discovery> {
  const request = parseDiscoverRequest(type, body, limits);
  if ((await log.getTopic(request.topic)) === null)
    throw new SwitchyardError("topic_not_found", `topic ${request.topic} does not exist`, {
      errors: [{ pointer: "/topic", message: "no such topic" }],
    });
  const scan = await scanNewest(log, request);
  if (scan.inference.samples === 0)
    throw new SwitchyardError(
      "invalid_request",
      `no event of type ${type} with JSON data among the newest ${scan.scanned} events of topic ${request.topic}: nothing to infer a schema from`,
      {
        errors: [
          { pointer: "/topic", message: `holds no recent event of type ${type} with JSON data` },
        ],
      },
    );
  return {
    schema: scan.inference.schema(),
    samples: scan.inference.samples,
    skipped: scan.skipped,
    scanned: scan.scanned,
  };
}

async function scanNewest(log: LogReader, request: DiscoverRequest): Promise<Scan> {
  const scan = new Scan(request.type);
  for await (const record of newestRecords(log, request.topic, request.maxScanned)) {
    scan.take(record.body);
    if (scan.inference.samples >= request.limit) break;
  }
  return scan;
}
