import type { StoredEvent } from "./event.js";

/** One event as an engine stores it: router metadata beside the event's own JSON. */
export interface LogRecord {
  readonly topic: string;
  /** 1-based, contiguous per topic. */
  readonly offset: number;
  /** When the router appended it, epoch milliseconds. */
  readonly appendedAt: number;
  /** The `partitionkey` attribute, or null. */
  readonly key: string | null;
  /** The structured CloudEvent JSON as published (id and time filled in), without router metadata. */
  readonly body: string;
  /** `subjectversion`: its place in its subject's stream, on topics indexed by `subject`. */
  readonly subjectVersion?: number;
}

// The topic and append time are the same for long runs of records (a subscription's lease
// is one topic, a published batch one millisecond): their JSON is built once per run, not
// once per delivery.
let lastTopic = "";
let lastAppendedAt = Number.NaN;
let lastMiddle = "";

function middle(topic: string, appendedAt: number): string {
  if (topic !== lastTopic || appendedAt !== lastAppendedAt) {
    lastMiddle = `"topic":${JSON.stringify(topic)},"appendedat":"${new Date(appendedAt).toISOString()}",`;
    lastTopic = topic;
    lastAppendedAt = appendedAt;
  }
  return lastMiddle;
}

/**
 * The StoredEvent JSON for a record, built by splicing strings: the hot read and delivery
 * paths never parse and re-serialise the event. `body` is always a non-empty JSON object.
 */
export function storedEventJson(record: LogRecord): string {
  const version =
    record.subjectVersion === undefined ? "" : `"subjectversion":${record.subjectVersion},`;
  return `{"offset":${record.offset},${version}${middle(record.topic, record.appendedAt)}${record.body.slice(1)}`;
}

export function toStoredEvent(record: LogRecord): StoredEvent {
  return JSON.parse(storedEventJson(record)) as StoredEvent;
}
