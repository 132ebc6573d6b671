import type { KeyRecord } from "../../broker/keys.js";
import { systemClock, type TimeSource } from "../../core/clock.js";
import { SwitchyardError } from "../../core/errors.js";

/**
 * A token bucket holding 1 s of its rate, refilled continuously. A request is admitted while
 * the bucket is not empty and then pays its whole cost, so the balance may go negative: a
 * batch larger than the bucket passes once and the next request waits out the debt.
 */
export class TokenBucket {
  readonly #rate: number;
  #tokens: number;
  #at: number;

  constructor(ratePerSec: number, now: number) {
    this.#rate = ratePerSec;
    this.#tokens = ratePerSec;
    this.#at = now;
  }

  /** Charges `cost` and returns 0, or returns the `Retry-After` seconds (≥ 1) and charges nothing. */
  take(cost: number, now: number): number {
    const elapsed = Math.max(0, now - this.#at) / 1000;
    this.#tokens = Math.min(this.#rate, this.#tokens + elapsed * this.#rate);
    this.#at = Math.max(this.#at, now);
    if (this.#tokens > 0) {
      this.#tokens -= cost;
      return 0;
    }
    // Seconds until the balance is above 0, not merely back at it.
    return Math.max(1, Math.floor(-this.#tokens / this.#rate) + 1);
  }
}

interface KeyBuckets {
  /** The limits the buckets were made for: a key whose limits change starts afresh. */
  readonly requestsPerSec: number | undefined;
  readonly eventsPerSec: number | undefined;
  readonly requests: TokenBucket | undefined;
  readonly events: TokenBucket | undefined;
}

const SWEEP_MS = 1_000;

export interface RateLimiterOptions {
  /** True while a key id is in the key view and not expired; other keys' buckets are dropped. */
  readonly isLive: (id: string) => boolean;
  readonly clock?: TimeSource;
}

/** This node's buckets, per key: one for requests, one for published events. */
export class RateLimiter {
  readonly #buckets = new Map<string, KeyBuckets>();
  readonly #isLive: (id: string) => boolean;
  readonly #clock: TimeSource;
  #sweptAt: number;

  constructor(options: RateLimiterOptions) {
    this.#isLive = options.isLive;
    this.#clock = options.clock ?? systemClock;
    this.#sweptAt = this.#clock.now();
  }

  /** Charges one request to the key, or throws 429 `rate_limited`. */
  admitRequest(record: KeyRecord): void {
    if (record.rateLimit?.requestsPerSec === undefined) return;
    this.#charge(record, "requests", 1);
  }

  /** Charges `count` published events to the key, or throws 429 `rate_limited`. */
  admitEvents(record: KeyRecord, count: number): void {
    if (record.rateLimit?.eventsPerSec === undefined) return;
    this.#charge(record, "events", count);
  }

  /** How many keys hold buckets on this node. */
  get size(): number {
    return this.#buckets.size;
  }

  #charge(record: KeyRecord, kind: "requests" | "events", cost: number): void {
    const now = this.#clock.now();
    this.#sweep(now);
    const bucket = this.#bucketsOf(record, now)[kind];
    const wait = bucket?.take(cost, now) ?? 0;
    if (wait === 0) return;
    const limit =
      kind === "requests" ? record.rateLimit?.requestsPerSec : record.rateLimit?.eventsPerSec;
    const unit = kind === "requests" ? "requests" : "events";
    throw new SwitchyardError(
      "rate_limited",
      `the key ${record.id} is over its rate limit of ${limit} ${unit}/s on this router; retry in ${wait} s`,
      { retryAfterSeconds: wait },
    );
  }

  #bucketsOf(record: KeyRecord, now: number): KeyBuckets {
    const { requestsPerSec, eventsPerSec } = record.rateLimit ?? {};
    const known = this.#buckets.get(record.id);
    if (
      known !== undefined &&
      known.requestsPerSec === requestsPerSec &&
      known.eventsPerSec === eventsPerSec
    )
      return known;
    const fresh: KeyBuckets = {
      requestsPerSec,
      eventsPerSec,
      requests: requestsPerSec === undefined ? undefined : new TokenBucket(requestsPerSec, now),
      events: eventsPerSec === undefined ? undefined : new TokenBucket(eventsPerSec, now),
    };
    this.#buckets.set(record.id, fresh);
    return fresh;
  }

  /** Drops the buckets of revoked and expired keys, at most once a second. */
  #sweep(now: number): void {
    if (now - this.#sweptAt < SWEEP_MS) return;
    this.#sweptAt = now;
    for (const id of this.#buckets.keys()) if (!this.#isLive(id)) this.#buckets.delete(id);
  }
}
