import type { Clock } from "../../core/clock.js";
import { type EndpointGuardOptions, type VettedEndpoint, vetEndpoint } from "./endpoint-guard.js";

/**
 * Runs the SSRF guard for attempts. One check (a DNS lookup and the address tests) serves
 * the attempts that start within `ttlMs` of it, so thousands of deliveries a second to one
 * endpoint do not each wait for a lookup; every attempt still connects to an address that was
 * checked, never to one a second lookup returned.
 */
export class EndpointChecker {
  readonly #options: EndpointGuardOptions;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #checks = new Map<string, { at: number; result: Promise<VettedEndpoint> }>();

  constructor(options: EndpointGuardOptions, clock: Clock, ttlMs = 1_000) {
    this.#options = options;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  get allowPrivateEndpoints(): boolean {
    return this.#options.allowPrivateEndpoints;
  }

  /** The vetted endpoint; rejects with `invalid_endpoint`. */
  check(url: string): Promise<VettedEndpoint> {
    const now = this.#clock.now();
    const cached = this.#checks.get(url);
    if (cached !== undefined && now - cached.at < this.#ttlMs) return cached.result;
    const result = vetEndpoint(url, this.#options);
    result.catch(() => undefined); // a refusal is handled by the caller awaiting it
    this.#checks.set(url, { at: now, result });
    if (this.#checks.size > 10_000) this.#prune(now);
    return result;
  }

  #prune(now: number): void {
    for (const [url, entry] of this.#checks)
      if (now - entry.at >= this.#ttlMs) this.#checks.delete(url);
  }
}
