/**
 * Raw pull requests on a consumer (`$JS.API.CONSUMER.MSG.NEXT`). JetStream delivers pulled
 * messages under their own subject, so each request gets a subscription of its own (the
 * shared inbox routes by subject and cannot tell requests apart). A request ends at a status (404 nothing, 408 expired, 409 ...) or after
 * `batch` messages. Messages that arrive after the caller stopped waiting (an abort, a local
 * timeout) still reach `onMessage`: JetStream counted them as delivered, so they must not
 * be dropped on the floor.
 */
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { statusOf } from "./inbox.js";

export interface PullOptions {
  readonly batch: number;
  /** Wait up to this long for messages; absent: answer with what is there now (`no_wait`). */
  readonly expiresMs?: number;
  readonly signal?: AbortSignal;
}

/** How long after a request's expiry late messages are still routed. */
const LATE_GRACE_MS = 5_000;

export class Puller {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  #next = 0;

  constructor(nc: NatsConnection, prefix: string, timeoutMs: number) {
    this.#nc = nc;
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  /** Resolves with the number of messages received before the request ended or was abandoned. */
  pull(
    stream: string,
    consumer: string,
    options: PullOptions,
    onMessage: (msg: Msg) => void,
  ): Promise<number> {
    return new Promise((resolve) => {
      let received = 0;
      let total = 0;
      let waiting = true;
      const stopWaiting = () => {
        if (!waiting) return;
        waiting = false;
        clearTimeout(waitTimer);
        options.signal?.removeEventListener("abort", stopWaiting);
        resolve(received);
      };
      let open = true;
      const end = () => {
        if (open) route.unsubscribe();
        open = false;
        clearTimeout(routeTimer);
        stopWaiting();
      };
      const subject = `${this.#prefix}.${(this.#next++).toString(36)}`;
      const route = this.#nc.subscribe(subject, {
        callback: (error, msg) => {
          if (error !== null) return end();
          const status = statusOf(msg);
          if (status === 100) return;
          if (status !== 0) return end();
          total++;
          if (waiting) received++;
          onMessage(msg);
          if (total >= options.batch) end();
        },
      });
      const expires = options.expiresMs;
      const waitTimer = setTimeout(stopWaiting, (expires ?? 0) + this.#timeoutMs);
      const routeTimer = setTimeout(end, (expires ?? 0) + this.#timeoutMs + LATE_GRACE_MS);
      options.signal?.addEventListener("abort", stopWaiting);
      if (options.signal?.aborted) return end();
      const body =
        expires === undefined
          ? { batch: options.batch, no_wait: true }
          : { batch: options.batch, expires: Math.max(1, Math.round(expires)) * 1_000_000 };
      try {
        this.#nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(body), {
          reply: subject,
        });
      } catch {
        end();
      }
    });
  }
}
