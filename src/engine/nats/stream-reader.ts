/**
 * Reads a topic's stream without consumers: the stream's state, and messages by sequence
 * through JetStream's direct get, pipelined on the engine's inbox. A topic's stream has no
 * holes (nothing deletes single messages; retention only trims the front), so a range of
 * offsets is a range of sequences.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { LogRecord } from "../../core/stored-event.js";
import { JS_CODES, topicNotFound, unavailable } from "./errors.js";
import { type Inbox, statusOf } from "./inbox.js";
import { recordFromDirectGet } from "./records.js";
import { requestAll, requestOne } from "./requests.js";

export interface StreamState {
  readonly messages: number;
  readonly bytes: number;
  /** First stored sequence; `last + 1` when the stream holds nothing. */
  readonly first: number;
  readonly last: number;
}

interface StreamInfoJson {
  readonly state?: {
    readonly messages: number;
    readonly bytes: number;
    readonly first_seq: number;
    readonly last_seq: number;
  };
  readonly error?: { readonly err_code?: number; readonly description?: string };
}

interface MsgGetJson {
  readonly message?: { readonly data?: string };
  readonly error?: { readonly err_code?: number; readonly description?: string };
}

export class StreamReader {
  readonly #nc: NatsConnection;
  readonly #inbox: Inbox;
  readonly #timeoutMs: number;

  constructor(nc: NatsConnection, inbox: Inbox, timeoutMs: number) {
    this.#nc = nc;
    this.#inbox = inbox;
    this.#timeoutMs = timeoutMs;
  }

  /** The stream's state; rejects with `topic_not_found` when the stream does not exist. */
  async state(stream: string, topic: string): Promise<StreamState> {
    const reply = await requestOne(
      this.#nc,
      this.#inbox,
      { subject: `$JS.API.STREAM.INFO.${stream}` },
      this.#timeoutMs,
    );
    if (reply === undefined || statusOf(reply) === 503)
      throw unavailable(`reading the state of topic ${topic}`);
    const info = JSON.parse(reply.string()) as StreamInfoJson;
    if (info.error?.err_code === JS_CODES.streamNotFound) throw topicNotFound(topic);
    const s = info.state;
    if (s === undefined) throw unavailable(`reading topic ${topic}: ${info.error?.description}`);
    const first = s.messages === 0 ? s.last_seq + 1 : s.first_seq;
    return { messages: s.messages, bytes: s.bytes, first, last: s.last_seq };
  }

  /** Records `from..to` (inclusive) in order; ones trimmed meanwhile by retention are left out. */
  range(stream: string, topic: string, from: number, to: number): Promise<LogRecord[]> {
    const seqs: number[] = [];
    for (let seq = from; seq <= to; seq++) seqs.push(seq);
    return this.at(stream, topic, seqs);
  }

  /**
   * The records at `seqs`, in that order, all requested at once; ones trimmed meanwhile by
   * retention are left out.
   */
  async at(stream: string, topic: string, seqs: readonly number[]): Promise<LogRecord[]> {
    if (seqs.length === 0) return [];
    const subject = `$JS.API.DIRECT.GET.${stream}`;
    const requests = seqs.map((seq) => ({ subject, data: `{"seq":${seq}}` }));
    const replies = await requestAll(this.#nc, this.#inbox, requests, this.#timeoutMs);
    const records: LogRecord[] = [];
    for (const reply of replies) {
      if (reply === undefined) throw unavailable(`reading topic ${topic}`);
      const status = statusOf(reply);
      if (status === 404) continue;
      if (status !== 0) throw unavailable(`reading topic ${topic} (status ${status})`);
      records.push(recordFromDirectGet(topic, reply));
    }
    return records;
  }

  /**
   * Whether the stream holds the event (`source`, `id`) at `seq`, asked of the stream's
   * leader (a direct get may be served by a replica still catching up). A dedupe answer
   * names the original's sequence; after a leader change JetStream can remember an id whose
   * message it no longer holds there, so a duplicate is taken only once this says yes.
   */
  async holdsEvent(
    stream: string,
    topic: string,
    seq: number,
    event: { readonly source: string; readonly id: string },
  ): Promise<boolean> {
    const reply = await requestOne(
      this.#nc,
      this.#inbox,
      { subject: `$JS.API.STREAM.MSG.GET.${stream}`, data: JSON.stringify({ seq }) },
      this.#timeoutMs,
    );
    if (reply === undefined || statusOf(reply) === 503)
      throw unavailable(`checking a duplicate in topic ${topic}`);
    const answer = JSON.parse(reply.string()) as MsgGetJson;
    if (answer.error?.err_code === JS_CODES.noMessageFound) return false;
    if (answer.error !== undefined || answer.message?.data === undefined)
      throw unavailable(`checking a duplicate in topic ${topic}: ${answer.error?.description}`);
    const stored = JSON.parse(Buffer.from(answer.message.data, "base64").toString("utf8")) as {
      source?: unknown;
      id?: unknown;
    };
    return stored.source === event.source && stored.id === event.id;
  }

  /** The append time of `seq`, or null when it is no longer stored. */
  async appendedAt(stream: string, topic: string, seq: number): Promise<number | null> {
    const [record] = await this.range(stream, topic, seq, seq);
    return record === undefined ? null : record.appendedAt;
  }

  /** The first sequence appended at or after `timeMs`; `last + 1` when none is. */
  async firstAtOrAfter(stream: string, topic: string, timeMs: number): Promise<number> {
    for (;;) {
      const state = await this.state(stream, topic);
      let lo = state.first;
      let hi = state.last + 1;
      let trimmed = false;
      while (lo < hi && !trimmed) {
        const mid = Math.floor((lo + hi) / 2);
        const at = await this.appendedAt(stream, topic, mid);
        if (at === null) trimmed = true;
        else if (at >= timeMs) hi = mid;
        else lo = mid + 1;
      }
      // Retention trimmed the front while searching: search the new range again.
      if (!trimmed) return lo;
    }
  }
}
