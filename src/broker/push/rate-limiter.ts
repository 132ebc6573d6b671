import type { TimeSource } from "../../core/clock.js";

/**
 * A token bucket: `perSecond` tokens a second, holding at most one second's worth, so a quiet
 * period allows a burst of at most `perSecond` requests and never more.
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #clock: TimeSource;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, clock: TimeSource) {
    this.#perSecond = perSecond;
    this.#clock = clock;
    this.#tokens = perSecond;
    this.#at = clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    const added = ((now - this.#at) * this.#perSecond) / 1000;
    this.#tokens = Math.min(this.#perSecond, this.#tokens + added);
    this.#at = now;
  }

  /** Whole tokens available now (not taken). */
  available(): number {
    this.#refill();
    return Math.floor(this.#tokens);
  }

  /** Takes `n` tokens; call only with `n <= available()`. */
  take(n: number): void {
    this.#refill();
    this.#tokens -= n;
  }

  /** Milliseconds until one whole token is available; 0 when one is. */
  msUntilToken(): number {
    this.#refill();
    if (this.#tokens >= 1) return 0;
    return Math.ceil(((1 - this.#tokens) * 1000) / this.#perSecond);
  }
}
