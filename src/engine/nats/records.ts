/**
 * How an event sits in a JetStream message, and back: the body is the message payload, the
 * ordering key a header (percent-encoded: header values cannot hold every string), the offset
 * the stream sequence and `appendedAt` the server's timestamp.
 */
import type { Msg, MsgHdrs } from "@nats-io/transport-node";
import { headers as newHeaders } from "@nats-io/transport-node";
import type { LogRecord } from "../../core/stored-event.js";

export const KEY_HEADER = "Sy-Key";
/** On the redrive stream: the original offset and append time, and the dead letter moved. */
export const OFFSET_HEADER = "Sy-Offset";
export const TIME_HEADER = "Sy-Time";
export const DLQ_HEADER = "Sy-Dlq";
export const MSG_ID_HEADER = "Nats-Msg-Id";
/** On events of topics indexed by `subject`: the event's version in its subject's stream. */
export const SUBJECT_VERSION_HEADER = "Sy-Subject-Version";

/** `{ subjectVersion }` when the message carries one (events the subject index numbered live). */
export function subjectVersionOf(msg: Msg): { subjectVersion?: number } {
  const raw = msg.headers?.get(SUBJECT_VERSION_HEADER);
  return raw ? { subjectVersion: Number(raw) } : {};
}

export function eventHeaders(
  key: string | null,
  msgId: string | null,
  extra?: Readonly<Record<string, string>>,
): MsgHdrs | undefined {
  if (key === null && msgId === null && extra === undefined) return undefined;
  const h = newHeaders();
  if (key !== null) h.set(KEY_HEADER, encodeURIComponent(key));
  if (msgId !== null) h.set(MSG_ID_HEADER, msgId);
  for (const [name, value] of Object.entries(extra ?? {})) h.set(name, value);
  return h;
}

export function keyOf(msg: Msg): string | null {
  const raw = msg.headers?.get(KEY_HEADER);
  return raw ? decodeURIComponent(raw) : null;
}

/** A record from a direct-get reply (headers `Nats-Sequence`, `Nats-Time-Stamp`). */
export function recordFromDirectGet(topic: string, msg: Msg): LogRecord {
  const h = msg.headers;
  return {
    topic,
    offset: Number(h?.get("Nats-Sequence")),
    appendedAt: Date.parse(h?.get("Nats-Time-Stamp") ?? ""),
    key: keyOf(msg),
    body: msg.string(),
    ...subjectVersionOf(msg),
  };
}

/** What the `$JS.ACK...` reply subject of a delivered message says about the delivery. */
export interface AckInfo {
  readonly stream: string;
  readonly consumer: string;
  /** How many times JetStream has delivered this message to the consumer (1 on the first). */
  readonly deliveries: number;
  readonly streamSeq: number;
  readonly consumerSeq: number;
  /** The message's stream timestamp, epoch milliseconds. */
  readonly timestampMs: number;
}

/**
 * Parses `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>` (the form of
 * nats-server 2.9) and the later form with domain and account hash before the stream.
 */
export function parseAckSubject(reply: string): AckInfo | null {
  const t = reply.split(".");
  if (t[0] !== "$JS" || t[1] !== "ACK") return null;
  const at = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (at < 0) return null;
  const ts = t[at + 5] ?? "0";
  return {
    stream: t[at] ?? "",
    consumer: t[at + 1] ?? "",
    deliveries: Number(t[at + 2]),
    streamSeq: Number(t[at + 3]),
    consumerSeq: Number(t[at + 4]),
    timestampMs: ts.length > 6 ? Number(ts.slice(0, -6)) : 0,
  };
}

/** The ack subject for a delivery, for settling one this node did not receive itself. */
export function ackSubject(
  info: Pick<AckInfo, "stream" | "consumer" | "deliveries" | "streamSeq" | "consumerSeq">,
): string {
  return `$JS.ACK.${info.stream}.${info.consumer}.${info.deliveries}.${info.streamSeq}.${info.consumerSeq}.0.0`;
}

/** The record a pulled message carries: a topic's event, or a redriven one (see redrive.ts). */
export function recordFromPulled(
  topic: string,
  source: "topic" | "redrive",
  msg: Msg,
  info: AckInfo,
): LogRecord {
  if (source === "redrive") return redrivenRecord(topic, msg);
  return {
    topic,
    offset: info.streamSeq,
    appendedAt: info.timestampMs,
    key: keyOf(msg),
    body: msg.string(),
    ...subjectVersionOf(msg),
  };
}

export function redrivenRecord(topic: string, msg: Msg): LogRecord {
  return {
    topic,
    offset: Number(msg.headers?.get(OFFSET_HEADER)),
    appendedAt: Number(msg.headers?.get(TIME_HEADER)),
    key: keyOf(msg),
    body: msg.string(),
  };
}
