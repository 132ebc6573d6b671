import type { TimeSource } from "../../core/clock.js";

/**
 * A circuit breaker per endpoint. After `failureThreshold` consecutive failed attempts the
 * circuit opens: nothing is sent for a cool-down, then one probe delivery at a time
 * (half-open) until one succeeds. Each failed probe doubles the cool-down up to
 * `maxOpenMs`. Events held back are not leased, so an outage does not burn their attempts.
 * A failure that is not the endpoint's fault (it answered, refusing one event) still counts
 * as a consecutive failure for health, but never trips the circuit.
 */

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitOptions {
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly maxOpenMs: number;
}

export const CIRCUIT_DEFAULTS: CircuitOptions = {
  failureThreshold: 5,
  openMs: 1_000,
  maxOpenMs: 60_000,
};

export class CircuitBreaker {
  readonly #options: CircuitOptions;
  readonly #clock: TimeSource;
  #failures = 0;
  #trips = 0;
  #openUntil = 0;

  constructor(clock: TimeSource, options: Partial<CircuitOptions> = {}) {
    this.#clock = clock;
    this.#options = { ...CIRCUIT_DEFAULTS, ...options };
  }

  get state(): CircuitState {
    if (this.#trips === 0) return "closed";
    return this.#clock.now() < this.#openUntil ? "open" : "half-open";
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** How many more deliveries may start now, with `inFlight` already running. */
  allowance(inFlight: number): number {
    const state = this.state;
    if (state === "closed") return Number.POSITIVE_INFINITY;
    if (state === "open") return 0;
    return inFlight === 0 ? 1 : 0;
  }

  /** Milliseconds until the next probe may start; 0 when it may start now or the circuit is closed. */
  msUntilProbe(): number {
    return this.state === "open" ? this.#openUntil - this.#clock.now() : 0;
  }

  recordSuccess(): void {
    this.#failures = 0;
    this.#trips = 0;
    this.#openUntil = 0;
  }

  recordFailure(endpointFault = true): void {
    this.#failures++;
    if (!endpointFault) {
      // An answer proves the endpoint is up: a probe that gets one closes the circuit.
      this.#trips = 0;
      this.#openUntil = 0;
      return;
    }
    const state = this.state;
    if (state === "open") return; // a straggler sent before the circuit opened
    if (state === "half-open" || this.#failures >= this.#options.failureThreshold) this.#trip();
  }

  #trip(): void {
    this.#trips++;
    const cooldown = this.#options.openMs * 2 ** (this.#trips - 1);
    this.#openUntil = this.#clock.now() + Math.min(this.#options.maxOpenMs, cooldown);
  }
}
