/**
 * Settling JetStream deliveries by publishing to their `$JS.ACK...` subject, with a reply
 * subject so the server confirms each one (JetStream's "double ack"): an `ok` the engine
 * reports is one the server has processed.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Inbox } from "./inbox.js";
import { requestAll } from "./requests.js";

export type AckKind = "ack" | "nak" | "progress" | "term";

export interface AckRequest {
  /** The delivery's ack subject. */
  readonly subject: string;
  readonly kind: AckKind;
  /** For `nak`: redeliver after this long (0: at once). */
  readonly delayMs?: number;
}

function payloadOf(request: AckRequest): string {
  switch (request.kind) {
    case "ack":
      return "+ACK";
    case "progress":
      return "+WPI";
    case "term":
      return "+TERM";
    case "nak": {
      const delay = Math.max(0, Math.round(request.delayMs ?? 0));
      return delay === 0 ? "-NAK" : `-NAK {"delay":${delay * 1_000_000}}`;
    }
  }
}

export class Acks {
  readonly #nc: NatsConnection;
  readonly #inbox: Inbox;
  readonly #timeoutMs: number;

  constructor(nc: NatsConnection, inbox: Inbox, timeoutMs: number) {
    this.#nc = nc;
    this.#inbox = inbox;
    this.#timeoutMs = timeoutMs;
  }

  /** Sends every request; resolves with whether the server confirmed each one. */
  async confirm(requests: readonly AckRequest[]): Promise<boolean[]> {
    const replies = await requestAll(
      this.#nc,
      this.#inbox,
      requests.map((r) => ({ subject: r.subject, data: payloadOf(r) })),
      this.#timeoutMs,
    );
    return replies.map((reply) => reply !== undefined);
  }

  /** Fire and forget, for keep-alives whose loss only means an earlier redelivery. */
  send(request: AckRequest): void {
    try {
      this.#nc.publish(request.subject, payloadOf(request));
    } catch {
      // Closed connection: the delivery comes back after its ack wait.
    }
  }
}
