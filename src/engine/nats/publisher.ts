/**
 * Appends with core `publish` and reads the PubAcks on the engine's own inbox (the fast form:
 * `js.publish` spends most of its CPU building an Error per call). Every event of a call is
 * published in input order on one connection, so JetStream stores them in that order.
 */
import { hash } from "node:crypto";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { SwitchyardError } from "../../core/errors.js";
import { pubAckError } from "./errors.js";
import { type Inbox, statusOf } from "./inbox.js";
import { eventHeaders } from "./records.js";
import { type OutgoingRequest, requestAll } from "./requests.js";

export interface PublishItem {
  readonly body: string;
  readonly key: string | null;
  /** `Nats-Msg-Id`, or null to skip JetStream's dedupe. */
  readonly msgId: string | null;
  /** More headers (the redrive stream's bookkeeping). */
  readonly headers?: Readonly<Record<string, string>>;
}

export type PublishOutcome =
  | { readonly kind: "stored"; readonly seq: number; readonly duplicate: boolean }
  /** Nobody listens on the subject: the stream does not exist (or has no leader right now). */
  | { readonly kind: "no-stream" }
  | {
      readonly kind: "failed";
      readonly error: SwitchyardError;
      /** JetStream's `err_code`, when it refused the message itself. */
      readonly jsCode?: number;
    };

/** Room left in a NATS message for the headers and protocol beside the body. */
const HEADER_ROOM = 1024;

const HEADER_SAFE = /^[\x21-\x7e]{1,200}$/;

/**
 * The `Nats-Msg-Id` of an event, one-to-one with its (`source`, `id`): the length-prefixed
 * pair itself when it is short printable ASCII (the common case, no hashing), else a SHA-256
 * digest (header values cannot carry every string, and the server keeps ids in memory).
 */
export function eventMsgId(source: string, id: string): string {
  const plain = `${source.length}:${source}${id}`;
  return HEADER_SAFE.test(plain)
    ? plain
    : `#${hash("sha256", `${source}\u0000${id}`, "base64url")}`;
}

export class Publisher {
  readonly #nc: NatsConnection;
  readonly #inbox: Inbox;
  readonly #timeoutMs: number;

  constructor(nc: NatsConnection, inbox: Inbox, timeoutMs: number) {
    this.#nc = nc;
    this.#inbox = inbox;
    this.#timeoutMs = timeoutMs;
  }

  async publish(subject: string, items: readonly PublishItem[]): Promise<PublishOutcome[]> {
    const limit = (this.#nc.info?.max_payload ?? 1_048_576) - HEADER_ROOM;
    const outcomes = Array.from<PublishOutcome | undefined>({ length: items.length });
    const requests: OutgoingRequest[] = [];
    const sentIndex: number[] = [];
    items.forEach((item, i) => {
      const data = Buffer.from(item.body);
      if (data.byteLength > limit) {
        outcomes[i] = { kind: "failed", error: tooLarge(data.byteLength, limit) };
        return;
      }
      const headers = eventHeaders(item.key, item.msgId, item.headers);
      requests.push(headers === undefined ? { subject, data } : { subject, data, headers });
      sentIndex.push(i);
    });
    const replies = await requestAll(this.#nc, this.#inbox, requests, this.#timeoutMs);
    replies.forEach((reply, j) => {
      outcomes[sentIndex[j] ?? 0] = outcomeOf(reply);
    });
    return outcomes.map((o) => o ?? timedOut());
  }
}

function outcomeOf(reply: Msg | undefined): PublishOutcome {
  if (reply === undefined) return timedOut();
  if (statusOf(reply) === 503) return { kind: "no-stream" };
  const ack = parsePubAck(reply);
  if (ack === null)
    return {
      kind: "failed",
      error: new SwitchyardError("append_failed", "JetStream answered with something else"),
    };
  if (ack.error !== undefined) {
    const error = pubAckError(ack.error);
    const code = ack.error.err_code;
    return code === undefined ? { kind: "failed", error } : { kind: "failed", error, jsCode: code };
  }
  return { kind: "stored", seq: ack.seq ?? 0, duplicate: ack.duplicate === true };
}

interface PubAckJson {
  readonly seq?: number;
  readonly duplicate?: boolean;
  readonly error?: { readonly err_code?: number; readonly description?: string };
}

const SEQ = /"seq":\s*(\d+)/;

/** PubAcks are tiny and hot: read the sequence without a full parse unless it is an error. */
function parsePubAck(reply: Msg): PubAckJson | null {
  const text = reply.string();
  if (!text.includes('"error"')) {
    const seq = SEQ.exec(text)?.[1];
    if (seq !== undefined) return { seq: Number(seq), duplicate: text.includes('"duplicate"') };
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? (parsed as PubAckJson) : null;
  } catch {
    return null;
  }
}

function timedOut(): PublishOutcome {
  return {
    kind: "failed",
    error: new SwitchyardError(
      "engine_unavailable",
      "JetStream did not acknowledge the event in time; it may or may not be stored (publish it again with the same source and id)",
    ),
  };
}

function tooLarge(bytes: number, limit: number): SwitchyardError {
  return new SwitchyardError(
    "event_too_large",
    `the event is ${bytes} bytes; this NATS server carries at most ${limit} (raise max_payload)`,
  );
}
