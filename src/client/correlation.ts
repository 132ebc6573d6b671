import { AsyncLocalStorage } from "node:async_hooks";

/** The event being handled, as far as events published because of it need to know. */
export interface Cause {
  readonly id: string;
  readonly correlationid?: unknown;
}

/** The CloudEvents correlation extension attributes an effect of `cause` carries. */
export interface CorrelationAttributes {
  readonly causationid: string;
  readonly correlationid: string;
}

// Module-wide on purpose: a handler that publishes through any client of this SDK (not only
// the one it was subscribed with) still links its events to the event it is handling.
const handling = new AsyncLocalStorage<Cause>();

/** Runs `fn` with `cause` as the event being handled, for every publish made inside it. */
export function runWithCause<T>(cause: Cause, fn: () => T): T {
  return handling.run(cause, fn);
}

/** The event the current async context is handling, if any. */
export function currentCause(): Cause | undefined {
  return handling.getStore();
}

/** `causationid` is the handled event's id; `correlationid` is inherited, or starts with it. */
export function correlationOf(cause: Cause): CorrelationAttributes {
  const inherited = cause.correlationid;
  const correlationid =
    typeof inherited === "string" && inherited.length > 0 ? inherited : cause.id;
  return { causationid: cause.id, correlationid };
}
