import { Buffer } from "node:buffer";
import type { FieldError } from "../core/errors.js";
import { type CloudEvent, cloudEventErrors, partitionKeyOf } from "../core/event.js";
import { isoTime } from "../core/iso-time.js";
import { isTopicName } from "../core/names.js";
import { Batcher, type BatchLimits } from "./batcher.js";
import { type Cause, correlationOf, currentCause } from "./correlation.js";
import { clientError } from "./errors.js";
import type { HttpTransport } from "./http.js";
import {
  type OutgoingEvent,
  type PublishResult,
  publishConditional,
  publishSender,
} from "./publish-sender.js";
import type { RetryPolicy } from "./retry.js";
import { activeTraceContext } from "./tracing.js";

/** The attributes of an event to publish besides `type` and `data`, all optional. */
export interface EventAttributes {
  readonly source?: string | undefined;
  readonly id?: string | undefined;
  readonly time?: string | undefined;
  readonly subject?: string | undefined;
  readonly datacontenttype?: string | undefined;
  readonly dataschema?: string | undefined;
  readonly data_base64?: string | undefined;
  /** The ordering key: events with one key are delivered in order, one at a time. */
  readonly partitionkey?: string | undefined;
  readonly correlationid?: string | undefined;
  readonly causationid?: string | undefined;
  readonly [extension: string]: unknown;
}

/**
 * An event to publish. Only `type` is required: `specversion` is always "1.0", `id` defaults
 * to a random UUID (fixed before the first try, so retries dedupe), `source` to the client's,
 * `time` to now. `T` types `data`.
 */
export interface EventInput<T = unknown> extends EventAttributes {
  readonly type: string;
  readonly data?: T | undefined;
}

/** Per-call options of `publish`. */
export interface PublishOptions {
  /**
   * Append only if the events' one `subject` is at this version of its stream (0: no stream
   * yet), on a topic indexed by `subject`; else the call rejects with `version_conflict`
   * (`error.problem.currentVersion`). Sent on its own request, never batched.
   */
  readonly expectedVersion?: number;
}

export interface PublisherOptions {
  readonly source: string;
  readonly batch: BatchLimits;
  readonly retry: RetryPolicy;
}

/** Turns inputs into CloudEvents and hands them to the batcher; rejects bad input at once. */
export class Publisher {
  readonly #source: string;
  readonly #batcher: Batcher<OutgoingEvent, PublishResult>;
  readonly #http: HttpTransport;
  readonly #retry: RetryPolicy;
  /** Validation's error list, empty between events: a valid event allocates none. */
  readonly #errors: FieldError[] = [];
  #closed = false;

  constructor(http: HttpTransport, options: PublisherOptions) {
    this.#source = options.source;
    this.#http = http;
    this.#retry = options.retry;
    this.#batcher = new Batcher(options.batch, publishSender(http, options.retry));
  }

  /**
   * Publishes one event or several (in order, in one lane). `cause` links the events to the
   * event being handled; without it the handler context (if any) supplies one. Bad input
   * rejects the returned promise, as every other failure does.
   */
  publish(
    topic: string,
    input: EventInput | readonly EventInput[],
    cause: Cause | undefined = currentCause(),
    options?: PublishOptions,
  ): Promise<PublishResult | PublishResult[]> {
    try {
      if (this.#closed) throw clientError("shutting_down", "this client is closed");
      if (!isTopicName(topic))
        throw clientError(
          "invalid_name",
          `topic name ${JSON.stringify(topic)} must match [a-zA-Z0-9._-]{1,200}`,
        );
      // One event, the common call: its promise is the batcher's, with no array around it.
      if (!Array.isArray(input) && options?.expectedVersion === undefined)
        return this.#batcher.addOne(topic, this.#prepare(input as EventInput, cause, ""));
      return this.#publishMany(topic, input, cause, options?.expectedVersion);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #publishMany(
    topic: string,
    input: EventInput | readonly EventInput[],
    cause: Cause | undefined,
    expectedVersion: number | undefined,
  ): Promise<PublishResult | PublishResult[]> {
    const inputs = Array.isArray(input) ? (input as readonly EventInput[]) : [input as EventInput];
    const events = inputs.map((one, i) =>
      this.#prepare(one, cause, Array.isArray(input) ? `/${i}` : ""),
    );
    const results =
      expectedVersion === undefined
        ? await Promise.all(this.#batcher.add(topic, events))
        : await this.#conditional(topic, events, expectedVersion);
    return Array.isArray(input) ? results : (results[0] as PublishResult);
  }

  async #conditional(
    topic: string,
    events: readonly OutgoingEvent[],
    expectedVersion: number,
  ): Promise<PublishResult[]> {
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0)
      throw clientError("invalid_request", "expectedVersion must be a non-negative integer");
    return publishConditional(this.#http, this.#retry, topic, events, expectedVersion);
  }

  /** Sends what is queued and waits until every publish so far is answered. */
  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  /** Refuses new publishes, then flushes. */
  close(): Promise<void> {
    this.#closed = true;
    return this.flush();
  }

  #prepare(input: EventInput, cause: Cause | undefined, at: string): OutgoingEvent {
    const event = buildEvent(input, this.#source, cause);
    if (cloudEventErrors(event, at, this.#errors).length > 0) {
      const errors = this.#errors.splice(0);
      const detail = errors.map((e) => `${e.pointer}: ${e.message}`).join("; ");
      const reserved = errors.some((e) => e.message.includes("reserved"));
      throw clientError(reserved ? "reserved_attribute" : "invalid_event", detail, { errors });
    }
    const json = JSON.stringify(event);
    const out = { id: event.id, key: partitionKeyOf(event), json, bytes: Buffer.byteLength(json) };
    return typeof event.traceparent === "string" ? { ...out, traceparent: event.traceparent } : out;
  }
}

/**
 * The CloudEvent for `input`: defaults filled, correlation attributes added when caused, and
 * the active trace context as `traceparent`/`tracestate` unless the input has its own.
 */
export function buildEvent(input: EventInput, source: string, cause?: Cause): CloudEvent {
  // One object, assigned in the order the attributes override each other (what spreading
  // defaults, correlation, trace context and input would give, without three copies).
  const event: Record<string, unknown> = {
    specversion: "1.0",
    id: globalThis.crypto.randomUUID(),
    source,
    time: isoTime(Date.now()),
  };
  if (cause) Object.assign(event, correlationOf(cause));
  if (input.traceparent === undefined) {
    const traced = activeTraceContext();
    if (traced) Object.assign(event, traced);
  }
  // `{ subject: undefined }` would otherwise overwrite a default with nothing. for-in with
  // hasOwn walks what Object.keys would list, without an array per event.
  for (const name in input) {
    if (!Object.hasOwn(input, name)) continue;
    const value = input[name];
    if (value !== undefined) event[name] = value;
  }
  return event as unknown as CloudEvent;
}
