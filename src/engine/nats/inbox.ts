/**
 * One reply subscription per connection for everything the engine asks JetStream: PubAcks,
 * pull batches, ack confirmations and direct gets. `js.publish`/`js.request` build an Error
 * with a stack trace per call and a subscription per fetch; routing replies by token on one
 * wildcard inbox costs a map lookup.
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";

/** Receives every reply addressed to its token; `rest` is what follows the token. */
export type ReplyHandler = (msg: Msg, rest: string) => void;

export class Inbox {
  readonly #prefix: string;
  readonly #handlers = new Map<string, ReplyHandler>();
  readonly #subscription: Subscription;
  #next = 0;

  constructor(nc: NatsConnection, prefix: string) {
    this.#prefix = prefix;
    this.#subscription = nc.subscribe(`${prefix}.>`, {
      callback: (error, msg) => {
        if (error === null) this.#route(msg);
      },
    });
  }

  /** Registers a handler and returns the reply-subject prefix to use with it. */
  open(handler: ReplyHandler): { readonly subject: string; readonly close: () => void } {
    const token = (this.#next++).toString(36);
    this.#handlers.set(token, handler);
    return {
      subject: `${this.#prefix}.${token}`,
      close: () => this.#handlers.delete(token),
    };
  }

  close(): void {
    this.#subscription.unsubscribe();
    this.#handlers.clear();
  }

  #route(msg: Msg): void {
    const rest = msg.subject.slice(this.#prefix.length + 1);
    const dot = rest.indexOf(".");
    const token = dot === -1 ? rest : rest.slice(0, dot);
    this.#handlers.get(token)?.(msg, dot === -1 ? "" : rest.slice(dot + 1));
  }
}

/** The status code of a headers-only status message (404, 408, 409, 503), or 0. */
export function statusOf(msg: Msg): number {
  const headers = msg.headers;
  if (headers === undefined) return 0;
  return headers.code;
}
