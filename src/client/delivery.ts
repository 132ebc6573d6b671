import type { Cause } from "./correlation.js";
import type { AnyEvents, PublishFunction } from "./event-map.js";
import type { PublishResult } from "./publish-sender.js";
import type { EventInput } from "./publisher.js";
import type { PulledDelivery, SettleStatus, StoredEventOf } from "./resources.js";

export type SettleOp =
  | { readonly type: "ack" }
  | { readonly type: "nack"; readonly delayMs?: number }
  | { readonly type: "extend"; readonly leaseMs?: number }
  | { readonly type: "reject"; readonly reason: string };

/** Sends settle operations to the router and answers each one's status. */
export interface Settler {
  settle(ackId: string, op: SettleOp): Promise<SettleStatus>;
}

/** Publishes on behalf of a handler, linking events to the event being handled. */
export type CausedPublish = (
  topic: string,
  events: EventInput | readonly EventInput[],
  cause: Cause,
) => Promise<PublishResult | PublishResult[]>;

/** A handler's `publish`: typed by the client's event map, as the client's own is. */
export type DeliveryPublish<M extends object = AnyEvents> = PublishFunction<M>;

/**
 * One event handed to a handler. The subscriber settles it when the handler returns or
 * throws; a handler may settle it itself first (the first settle wins, later ones answer the
 * same status).
 */
export interface Delivery<T = unknown, M extends object = AnyEvents> {
  readonly event: StoredEventOf<T>;
  readonly ackId: string;
  /** 1 on first delivery, +1 on each redelivery. */
  readonly attempt: number;
  readonly subscription: string;
  /** True once ack, nack or reject was sent. */
  readonly settled: boolean;
  /** True when the router said the lease was gone (an extend answered expired/unknown). */
  readonly leaseLost: boolean;
  ack(): Promise<SettleStatus>;
  /** Without `delayMs` the subscription's backoff decides when it comes back. */
  nack(delayMs?: number): Promise<SettleStatus>;
  /**
   * Renews the lease to last `ms` from now (default: the subscription's `ackTimeoutMs`). The
   * subscriber already renews it on its own while the handler runs; a longer `ms` is kept
   * (the automatic renewals never shorten it).
   */
  extend(ms?: number): Promise<SettleStatus>;
  /** Straight to the dead-letter topic. */
  reject(reason: string): Promise<SettleStatus>;
  /** Publishes with `causationid` = this event's id and its `correlationid` carried on. */
  readonly publish: DeliveryPublish<M>;
}

export class StreamDelivery<T> implements Delivery<T> {
  readonly event: StoredEventOf<T>;
  readonly ackId: string;
  readonly attempt: number;
  readonly subscription: string;
  readonly publish: DeliveryPublish;
  readonly #settler: Settler;
  #final: Promise<SettleStatus> | undefined;
  #leaseLost = false;
  /** The end of the longest lease the handler asked for with `extend(ms)`. */
  #heldUntil = 0;

  constructor(
    pulled: PulledDelivery<T>,
    subscription: string,
    settler: Settler,
    publish: CausedPublish,
  ) {
    this.event = pulled.event;
    this.ackId = pulled.ackId;
    this.attempt = pulled.attempt;
    this.subscription = subscription;
    this.#settler = settler;
    const cause = { id: pulled.event.id, correlationid: pulled.event.correlationid };
    this.publish = ((topic: string, events: EventInput | readonly EventInput[]) =>
      publish(topic, events, cause)) as DeliveryPublish;
  }

  get settled(): boolean {
    return this.#final !== undefined;
  }

  get leaseLost(): boolean {
    return this.#leaseLost;
  }

  ack(): Promise<SettleStatus> {
    return this.#finish({ type: "ack" });
  }

  nack(delayMs?: number): Promise<SettleStatus> {
    return this.#finish(delayMs === undefined ? { type: "nack" } : { type: "nack", delayMs });
  }

  reject(reason: string): Promise<SettleStatus> {
    return this.#finish({ type: "reject", reason });
  }

  async extend(ms?: number): Promise<SettleStatus> {
    if (this.#final) return "unknown";
    if (ms !== undefined) this.#heldUntil = Math.max(this.#heldUntil, Date.now() + ms);
    const op: SettleOp = ms === undefined ? { type: "extend" } : { type: "extend", leaseMs: ms };
    const status = await this.#settler.settle(this.ackId, op);
    if (status !== "ok") this.#leaseLost = true;
    return status;
  }

  /**
   * The subscriber's periodic renewal: by the default lease, unless a longer lease the handler
   * asked for still covers that. Answers null when nothing was sent.
   */
  renew(defaultLeaseMs: number): Promise<SettleStatus> | null {
    if (Date.now() + defaultLeaseMs <= this.#heldUntil) return null;
    return this.extend();
  }

  #finish(op: SettleOp): Promise<SettleStatus> {
    this.#final ??= this.#settler.settle(this.ackId, op);
    return this.#final;
  }
}
