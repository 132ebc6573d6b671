import type { Admin } from "./admin.js";
import { runWithCause } from "./correlation.js";
import { type CausedPublish, type Delivery, type SettleOp, StreamDelivery } from "./delivery.js";
import { clientError, Reject, RetryAfter, SwitchyardClientError } from "./errors.js";
import type { PulledDelivery } from "./resources.js";
import type { RetryPolicy } from "./retry.js";
import { StreamSettler } from "./settler.js";
import { ReconnectingStream, type ServerFrame } from "./stream.js";
import type { CertificateAuthority } from "./tls.js";
import { inProcessSpan } from "./tracing.js";

export type Handler<T> = (delivery: Delivery<T>) => unknown;

export interface SubscribeOptions {
  /** Handlers running at once (default 10); the router never sends more than this ahead. */
  readonly concurrency?: number;
  /** Extend a running handler's lease this often (default: half the subscription's ackTimeoutMs). */
  readonly extendEveryMs?: number;
  /** How long `close()` waits for running handlers by default (default 30 s). */
  readonly closeTimeoutMs?: number;
  /** Backoff between reconnects (default 100 ms doubling to 5 s, forever). */
  readonly reconnect?: Partial<RetryPolicy>;
  /** Ping interval that finds dead connections (default 15 s). */
  readonly heartbeatMs?: number;
  /** A settle the socket has not answered within this goes over HTTP (default 10 s). */
  readonly settleTimeoutMs?: number;
  /** Background trouble: disconnects, settles that failed, a refused stream. */
  readonly onError?: (error: unknown) => void;
  /** A handler threw (other than Reject / RetryAfter); its event was nacked. */
  readonly onHandlerError?: (error: unknown, delivery: Delivery) => void;
}

export interface Subscriber {
  readonly subscription: string;
  /** Resolves once the stream is first connected; rejects when the router refuses it. */
  readonly ready: Promise<void>;
  /** Resolves when the subscriber has stopped (after `close()`, or a refusal). */
  readonly closed: Promise<void>;
  /** Handlers running now. */
  readonly running: number;
  /**
   * Closes the socket (no more deliveries), waits up to `timeoutMs` for running handlers and
   * settles them over HTTP; handlers still running then are nacked for immediate redelivery.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export interface SubscriberDeps {
  readonly admin: Admin;
  readonly streamUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly ca?: CertificateAuthority;
  readonly publish: CausedPublish;
}

interface Running {
  readonly delivery: StreamDelivery<unknown>;
  readonly done: Promise<void>;
  readonly keeper: ReturnType<typeof setInterval>;
  abandoned: boolean;
}

const RECONNECT: RetryPolicy = {
  retries: Number.POSITIVE_INFINITY,
  initialDelayMs: 100,
  maxDelayMs: 5_000,
};

function defaultOnError(error: unknown): void {
  console.warn(`switchyard: ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * Consumes a subscription over its WebSocket stream with at most `concurrency` handlers at
 * once: credit sent to the router always equals concurrency minus what is running, so the
 * router never hands out an event no handler is free for.
 */
export class StreamSubscriber<T> implements Subscriber {
  readonly subscription: string;
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;
  readonly #handler: Handler<T>;
  readonly #deps: SubscriberDeps;
  readonly #concurrency: number;
  readonly #options: SubscribeOptions;
  readonly #stream: ReconnectingStream;
  readonly #settler: StreamSettler;
  readonly #running = new Map<string, Running>();
  #backlog: PulledDelivery[] = [];
  #granted = 0;
  #topUpScheduled = false;
  #extendEveryMs = 0;
  /** The subscription's ackTimeoutMs: what a plain extend renews a lease to. */
  #leaseMs = 0;
  #state: "starting" | "running" | "closing" | "closed" = "starting";
  #markReady: () => void = () => {};
  #refuse: (error: unknown) => void = () => {};
  #markClosed: () => void = () => {};
  #closing: Promise<void> | undefined;

  constructor(
    subscription: string,
    handler: Handler<T>,
    deps: SubscriberDeps,
    options: SubscribeOptions,
  ) {
    this.subscription = subscription;
    this.#handler = handler;
    this.#deps = deps;
    this.#options = options;
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 10));
    this.ready = new Promise((resolve, reject) => {
      this.#markReady = resolve;
      this.#refuse = reject;
    });
    this.ready.catch(() => {}); // reported through onError; awaiting `ready` is optional
    this.closed = new Promise((resolve) => {
      this.#markClosed = resolve;
    });
    this.#stream = new ReconnectingStream(deps.streamUrl, this.#listener(), {
      reconnect: { ...RECONNECT, ...options.reconnect },
      heartbeatMs: options.heartbeatMs ?? 15_000,
      headers: deps.headers,
      ...(deps.ca === undefined ? {} : { ca: deps.ca }),
    });
    this.#settler = new StreamSettler(
      this.#stream,
      deps.admin,
      subscription,
      options.settleTimeoutMs ?? 10_000,
    );
  }

  get running(): number {
    return this.#running.size;
  }

  /** Reads the subscription's lease length once (to pace extensions), then connects. */
  async start(): Promise<void> {
    try {
      const config = await this.#deps.admin.subscriptions.get(this.subscription);
      this.#leaseMs = config.ackTimeoutMs;
      this.#extendEveryMs =
        this.#options.extendEveryMs ?? Math.max(50, Math.floor(config.ackTimeoutMs / 2));
    } catch (error) {
      this.#fatal(error);
      return;
    }
    if (this.#state !== "starting") return;
    this.#state = "running";
    this.#stream.start();
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#shutDown(options.timeoutMs ?? this.#options.closeTimeoutMs ?? 30_000);
    return this.#closing;
  }

  async #shutDown(timeoutMs: number): Promise<void> {
    if (this.#state === "starting")
      this.#refuse(clientError("shutting_down", "the subscriber was closed before it connected"));
    this.#state = "closing";
    // The socket goes first: credit cannot be taken back, so an open socket keeps receiving
    // events, and an event released back to the router would bounce straight back to it.
    // Running handlers' extends and settles go over HTTP from here on.
    await this.#stream.close();
    this.#settler.onDisconnect();
    for (const pulled of this.#backlog.splice(0)) this.#release(pulled.ackId);
    await this.#handlersDone(timeoutMs);
    await this.#settler.idle(Math.min(timeoutMs, 5_000) + 1_000);
    this.#state = "closed";
    this.#markClosed();
  }

  #listener() {
    return {
      onOpen: () => {
        this.#granted = 0;
        this.#markReady();
        this.#topUp();
      },
      onFrame: (frame: ServerFrame) => this.#onFrame(frame),
      onDisconnect: (error: SwitchyardClientError) => {
        this.#settler.onDisconnect();
        this.#report(error);
      },
      onFatal: (error: SwitchyardClientError) => {
        this.#settler.onDisconnect();
        this.#fatal(error);
      },
    };
  }

  #onFrame(frame: ServerFrame): void {
    if (frame.type === "results") this.#settler.onResults(frame.id, frame.results);
    else if (frame.type === "error") {
      if (!this.#settler.onError(frame.id, frame.problem))
        this.#report(new SwitchyardClientError(frame.problem));
    } else for (const pulled of frame.deliveries) this.#accept(pulled);
  }

  #accept(pulled: PulledDelivery): void {
    this.#granted = Math.max(0, this.#granted - 1);
    if (this.#state !== "running") this.#release(pulled.ackId);
    else if (this.#running.size < this.#concurrency) this.#run(pulled);
    else this.#backlog.push(pulled);
  }

  /** Hands a delivery we will not handle straight back for immediate redelivery. */
  #release(ackId: string): void {
    this.#settler.settle(ackId, { type: "nack", delayMs: 0 }).catch((e) => this.#report(e));
  }

  #run(pulled: PulledDelivery): void {
    const delivery = new StreamDelivery(
      pulled as PulledDelivery<T>,
      this.subscription,
      this.#settler,
      this.#deps.publish,
    );
    const keeper = setInterval(() => this.#extend(delivery, keeper), this.#extendEveryMs);
    const running: Running = {
      delivery: delivery as StreamDelivery<unknown>,
      keeper,
      abandoned: false,
      done: Promise.resolve().then(() => this.#handle(delivery, running)),
    };
    this.#running.set(pulled.ackId, running);
  }

  async #handle(delivery: StreamDelivery<T>, running: Running): Promise<void> {
    let op: SettleOp = { type: "ack" };
    try {
      const cause = { id: delivery.event.id, correlationid: delivery.event.correlationid };
      await runWithCause(cause, () =>
        inProcessSpan(delivery.event, this.subscription, () => this.#handler(delivery)),
      );
    } catch (error) {
      op = outcomeOf(error);
      if (!(error instanceof Reject || error instanceof RetryAfter))
        this.#options.onHandlerError?.(error, delivery as Delivery);
    }
    clearInterval(running.keeper);
    if (running.abandoned) return;
    this.#running.delete(delivery.ackId);
    if (!delivery.settled) settleWith(delivery, op).catch((e) => this.#report(e));
    this.#next();
  }

  #extend(delivery: StreamDelivery<T>, keeper: ReturnType<typeof setInterval>): void {
    delivery.renew(this.#leaseMs)?.then(
      (status) => {
        if (status !== "ok") clearInterval(keeper);
      },
      (error) => this.#report(error),
    );
  }

  /** A slot freed up: take from the backlog, else give the router one more credit. */
  #next(): void {
    const waiting = this.#state === "running" ? this.#backlog.shift() : undefined;
    if (waiting) this.#run(waiting);
    else this.#scheduleTopUp();
  }

  #scheduleTopUp(): void {
    if (this.#topUpScheduled) return;
    this.#topUpScheduled = true;
    const topUp = (): void => {
      this.#topUpScheduled = false;
      this.#topUp();
    };
    // After the settles queued in this turn, so the router sees the ack before the credit; in
    // the same turn as their frames when there are some, so both leave in one write (stream.ts).
    if (!this.#settler.afterFlush(topUp)) setImmediate(topUp);
  }

  #topUp(): void {
    if (this.#state !== "running") return;
    const want = this.#concurrency - this.#running.size - this.#backlog.length - this.#granted;
    if (want > 0 && this.#stream.send({ type: "credit", n: want })) this.#granted += want;
  }

  async #handlersDone(timeoutMs: number): Promise<void> {
    const all = Promise.allSettled([...this.#running.values()].map((r) => r.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([all, expired]);
    clearTimeout(timer);
    if (outcome !== "timeout") return;
    for (const running of this.#running.values()) {
      running.abandoned = true;
      clearInterval(running.keeper);
      this.#release(running.delivery.ackId);
    }
    this.#running.clear();
  }

  #fatal(error: unknown): void {
    this.#refuse(error);
    this.#report(error);
    void this.close();
  }

  #report(error: unknown): void {
    (this.#options.onError ?? defaultOnError)(error);
  }
}

function outcomeOf(error: unknown): SettleOp {
  if (error instanceof Reject) return { type: "reject", reason: error.reason };
  if (error instanceof RetryAfter) return { type: "nack", delayMs: error.delayMs };
  return { type: "nack" };
}

function settleWith(delivery: Delivery<unknown>, op: SettleOp): Promise<unknown> {
  if (op.type === "reject") return delivery.reject(op.reason);
  if (op.type === "nack") return delivery.nack(op.delayMs);
  return delivery.ack();
}
