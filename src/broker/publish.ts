import type { Clock } from "../core/clock.js";
import type { TopicConfig } from "../core/config.js";
import { type FieldError, SwitchyardError } from "../core/errors.js";
import { type CloudEvent, cloudEventErrors, partitionKeyOf } from "../core/event.js";
import { isoTime } from "../core/iso-time.js";
import { type NewEvent, SUBJECT_MAX_BYTES } from "../engine/engine.js";
import { uuidv7 } from "./ids.js";
import type { TraceStamp } from "./tracing.js";

/** Events checked, completed and serialised, ready for `engine.log.append`. */
export interface PreparedBatch {
  readonly events: readonly NewEvent[];
  /** Stored bytes of each event, in input order (for metrics). */
  readonly sizes: readonly number[];
}

function pointerOf(batch: boolean, index: number): string {
  return batch ? `/${index}` : "";
}

/** Throws every field error of every event at once; a reserved name gets its own code. */
function checkEvents(events: readonly unknown[], batch: boolean): void {
  const errors: FieldError[] = [];
  for (let i = 0; i < events.length; i++) {
    const found = cloudEventErrors(events[i], pointerOf(batch, i));
    for (const e of found) errors.push(e);
  }
  if (errors.length === 0) return;
  const reserved = errors.some((e) => e.message.includes("reserved"));
  const first = errors[0];
  throw new SwitchyardError(
    reserved ? "reserved_attribute" : "invalid_event",
    errors.length === 1 && first
      ? `${first.pointer || "event"}: ${first.message}`
      : `${errors.length} attributes are invalid`,
    { errors },
  );
}

/** An event without a `traceparent` gets `stamp`; one with its own keeps it (API.md). */
function traced(event: CloudEvent, stamp: TraceStamp | undefined): CloudEvent {
  if (stamp === undefined || event.traceparent !== undefined) return event;
  if (stamp.tracestate === undefined || event.tracestate !== undefined)
    return { ...event, traceparent: stamp.traceparent };
  return { ...event, traceparent: stamp.traceparent, tracestate: stamp.tracestate };
}

/** The event with `id` and `time` filled in; untouched (no copy) when it has both. */
function complete(event: CloudEvent, clock: Clock): CloudEvent {
  if (event.id !== undefined && event.time !== undefined) return event;
  const now = clock.now();
  const out: Record<string, unknown> = {
    specversion: event.specversion,
    id: event.id ?? uuidv7(now),
    source: event.source,
    type: event.type,
    time: event.time ?? isoTime(now),
  };
  for (const key of Object.keys(event)) if (!(key in out)) out[key] = event[key];
  return out as CloudEvent;
}

function tooLarge(pointers: FieldError[], topic: TopicConfig): never {
  throw new SwitchyardError(
    "event_too_large",
    `${pointers.length === 1 ? "an event is" : `${pointers.length} events are`} larger than topic ${topic.name}'s maxEventBytes (${topic.maxEventBytes})`,
    { errors: pointers },
  );
}

/**
 * JSON.parse accepts any nesting, but JSON.stringify recurses: data nested thousands of
 * levels deep overflows the stack. That is the client's input, not a router failure.
 */
function serialise(event: CloudEvent, pointer: string): string {
  try {
    return JSON.stringify(event);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new SwitchyardError("invalid_event", `${pointer}/data: nests too deeply to store`, {
      errors: [{ pointer: `${pointer}/data`, message: "nests too deeply to store" }],
    });
  }
}

/** The topic's schema check (absent when its mode is `off`): the events to store, or a throw. */
export type SchemaCheck = (events: readonly CloudEvent[]) => readonly CloudEvent[];

/**
 * validate → schema check (when the topic has one) → fill `id` and `time` → ordering key →
 * serialise once. All-or-nothing: any bad event rejects the whole request before anything
 * is appended.
 */
export function prepareEvents(
  input: readonly unknown[],
  batch: boolean,
  topic: TopicConfig,
  clock: Clock,
  schemaCheck?: SchemaCheck,
  stamp?: TraceStamp,
): PreparedBatch {
  checkEvents(input, batch);
  const checked = input as readonly CloudEvent[];
  const stored = schemaCheck === undefined ? checked : schemaCheck(checked);
  const events: NewEvent[] = [];
  const oversized: FieldError[] = [];
  const sizes: number[] = [];
  const longSubjects: FieldError[] = [];
  const subjectIndexed = topic.indexes?.includes("subject") ?? false;
  for (let i = 0; i < stored.length; i++) {
    const event = traced(complete(stored[i] as CloudEvent, clock), stamp);
    const body = serialise(event, pointerOf(batch, i));
    const size = Buffer.byteLength(body);
    if (size > topic.maxEventBytes)
      oversized.push({ pointer: pointerOf(batch, i) || "/", message: `is ${size} bytes` });
    sizes.push(size);
    const correlationId = typeof event.correlationid === "string" ? event.correlationid : null;
    const subject = typeof event.subject === "string" ? event.subject : null;
    if (subjectIndexed && subject !== null && Buffer.byteLength(subject) > SUBJECT_MAX_BYTES)
      longSubjects.push({
        pointer: `${pointerOf(batch, i)}/subject`,
        message: `is longer than ${SUBJECT_MAX_BYTES} bytes (the topic is indexed by subject)`,
      });
    events.push({
      id: event.id,
      source: event.source,
      key: partitionKeyOf(event),
      body,
      correlationId,
      subject,
    });
  }
  if (longSubjects.length > 0)
    throw new SwitchyardError("invalid_event", "a subject is longer than 1024 bytes", {
      errors: longSubjects,
    });
  if (oversized.length > 0) tooLarge(oversized, topic);
  return { events, sizes };
}
