/**
 * Typed events. An event map names each event `type` and the type of its `data`, as the
 * `EventMap` that `switchyard codegen` writes from the schema registry does. With one,
 * `createClient<EventMap>()` publishes only the types it names, checks each event's `data`
 * against its type, and hands handlers events whose `data` narrows by `type`. Without one
 * (`AnyEvents`, the default) any type goes and `data` is typed per call, as `publish<T>`
 * and `subscribe<T>` always did. Types only: nothing here exists at run time.
 */
import type { Delivery } from "./delivery.js";
import type { PublishResult } from "./publish-sender.js";
import type { EventAttributes, EventInput, PublishOptions } from "./publisher.js";
import type { Handler, SubscribeOptions, Subscriber } from "./subscriber.js";

/** The default map: its string index signature names no type in particular. */
export type AnyEvents = { readonly [type: string]: unknown };

/** The event types a map names (`string` for `AnyEvents`). */
type EventType<M extends object> = keyof M & string;

/** True for a map with a string index signature (`AnyEvents`): the untyped API applies. */
type IsUntyped<M extends object> = string extends keyof M ? true : false;

/** One event of type K with `data` D (required: a registered type describes its data). */
export interface TypedEventInput<K extends string, D> extends EventAttributes {
  readonly type: K;
  readonly data: D;
}

/** An event `publish` accepts under M: one of its types, with `data` of that type. */
export type EventInputOf<M extends object> = {
  [K in EventType<M>]: TypedEventInput<K, M[K]>;
}[EventType<M>];

/** What a handler gets under M: `delivery.event.type` narrows `delivery.event.data`. */
export type DeliveryOf<M extends object> = {
  [K in EventType<M>]: Delivery<M[K], M> & { readonly event: { readonly type: K } };
}[EventType<M>];

/** Untyped publishing: any type; `T` types `data`. */
export interface UntypedPublish {
  <T = unknown>(
    topic: string,
    event: EventInput<T>,
    options?: PublishOptions,
  ): Promise<PublishResult>;
  <T = unknown>(
    topic: string,
    events: readonly EventInput<T>[],
    options?: PublishOptions,
  ): Promise<PublishResult[]>;
}

/** Publishing under a map: only its types, each with its `data`. */
export interface TypedPublish<M extends object> {
  (
    topic: string,
    events: readonly EventInputOf<M>[],
    options?: PublishOptions,
  ): Promise<PublishResult[]>;
  // Last: a call that fits neither overload is reported against the last one, and one event
  // is the common case. K taken from `type` checks `data` against that type alone, so a
  // mistake reads plainly ("'totl' does not exist in type 'OrderPlaced'").
  <K extends EventType<M>>(
    topic: string,
    event: TypedEventInput<K, M[K]>,
    options?: PublishOptions,
  ): Promise<PublishResult>;
}

/** Publishes one event or an array (in order). */
export type PublishFunction<M extends object = AnyEvents> =
  IsUntyped<M> extends true ? UntypedPublish : TypedPublish<M>;

/** Untyped consuming: `T` types every event's `data`. */
export type UntypedSubscribe = <T = unknown>(
  subscription: string,
  handler: Handler<T>,
  options?: SubscribeOptions,
) => Subscriber;

/**
 * Consuming under a map: the handler's events are the map's types. The map describes what
 * the subscription carries; nothing checks that at run time (the router's schema
 * enforcement does, on publish).
 */
export type TypedSubscribe<M extends object> = (
  subscription: string,
  handler: (delivery: DeliveryOf<M>) => unknown,
  options?: SubscribeOptions,
) => Subscriber;

/** Consumes a subscription: the handler runs per event, at most `concurrency` at once. */
export type SubscribeFunction<M extends object = AnyEvents> =
  IsUntyped<M> extends true ? UntypedSubscribe : TypedSubscribe<M>;
