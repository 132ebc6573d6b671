/**
 * How the services' subscriptions are set up. Each takes one event type: its filter lets
 * only that type through, and its handler is typed by it (`EventMap`, generated from the
 * schemas the topics enforce).
 *
 * Retries are quick (0.2 s doubling up to 2 s) so a reader can watch a failure heal in
 * seconds; production would keep the defaults (1 s doubling up to 10 min).
 */
import { type Delivery, type DeliveryOf, type Filter, Reject } from "switchyard/client";
import type { EventMap } from "./events.ts";

export const RETRIES = {
  maxAttempts: 50,
  backoff: { initialMs: 200, multiplier: 2, maxMs: 2_000 },
} as const;

export type EventType = keyof EventMap & string;

/** The filter of a subscription that takes `type` only. */
export function onlyType(type: EventType): Filter {
  return { exact: { type } };
}

/**
 * A pull handler for `type`, whose deliveries it types. The subscription's filter already
 * keeps other types out; should one arrive anyway (the filter was changed by hand), it goes
 * to the dead-letter topic rather than into a handler that would misread it.
 */
export function handlerOf<K extends EventType>(
  type: K,
  handle: (delivery: Delivery<EventMap[K], EventMap>) => unknown,
): (delivery: DeliveryOf<EventMap>) => unknown {
  return (delivery) => {
    if (delivery.event.type !== type) {
      throw new Reject(`${delivery.subscription} takes ${type}, not ${delivery.event.type}`);
    }
    // Checked just above; TypeScript cannot narrow the union by a generic K.
    return handle(delivery as Delivery<EventMap[K], EventMap>);
  };
}

/** The filter of a subscription that takes any of `types`. */
export function onlyTypes(types: readonly EventType[]): Filter {
  return { any: types.map((type) => onlyType(type)) };
}
