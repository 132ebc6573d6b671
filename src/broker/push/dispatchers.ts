import type { Clock } from "../../core/clock.js";
import type { SubscriptionConfig } from "../../core/config.js";
import { isSwitchyardError } from "../../core/errors.js";
import type { CursorStore } from "../../engine/engine.js";
import type { Log } from "../log.js";
import type { PushSecrets } from "../push-secrets.js";
import type { RouterTracing } from "../tracing.js";
import { CircuitBreaker, type CircuitOptions } from "./circuit.js";
import { Dispatcher, type PushHealth, type PushMetrics } from "./dispatcher.js";
import { EndpointChecker } from "./endpoint-checker.js";
import { checkEndpointConfig, type Resolver, systemResolver } from "./endpoint-guard.js";
import {
  createPushSender,
  type PushSender,
  SENDER_DEFAULTS,
  type SenderOptions,
} from "./sender.js";

/**
 * Runs one dispatcher per push subscription. The broker calls `sync` after every change it
 * makes; a periodic `reconcile` also picks up changes made by other nodes sharing the engine.
 */

export interface PushOptions {
  /** Off by default: endpoints on loopback, private and metadata addresses are refused. */
  readonly allowPrivateEndpoints?: boolean;
  readonly sender?: SenderOptions;
  readonly circuit?: Partial<CircuitOptions>;
  /** How often the subscription list is re-read; 0 turns it off. Default 5000. */
  readonly reconcileIntervalMs?: number;
  /** DNS for the endpoint guard (tests). */
  readonly resolve?: Resolver;
  /** How long one endpoint check (DNS + address tests) serves later attempts. Default 1000. */
  readonly endpointCheckTtlMs?: number;
  readonly onError?: (error: unknown) => void;
  /** Counters for `/metrics` (the broker passes its own). */
  readonly metrics?: PushMetrics;
  /** Tracing on: a span per push attempt. */
  readonly tracing?: RouterTracing;
  readonly log?: Log;
}

/** Longest a PUT or DELETE waits for a stopping dispatcher (a settle the engine is slow to take). */
const STOP_WAIT_MS = 5_000;

/** Waits for `work` (its failure is the dispatcher's to report), or `ms`, whichever is first. */
async function boundedWait(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class PushDispatchers {
  readonly #cursors: CursorStore;
  readonly #clock: Clock;
  readonly #secrets: PushSecrets;
  readonly #options: PushOptions;
  readonly #sender: PushSender;
  readonly #endpoints: EndpointChecker;
  readonly #dispatchers = new Map<string, Dispatcher>();
  readonly #circuits = new Map<string, CircuitBreaker>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #reconciling: Promise<void> = Promise.resolve();

  /** `secrets` opens the sealed configs the engine returns. */
  constructor(cursors: CursorStore, clock: Clock, secrets: PushSecrets, options: PushOptions = {}) {
    this.#cursors = cursors;
    this.#clock = clock;
    this.#secrets = secrets;
    this.#options = options;
    this.#sender = createPushSender(options.sender);
    this.#endpoints = new EndpointChecker(
      {
        allowPrivateEndpoints: options.allowPrivateEndpoints ?? false,
        ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
      },
      clock,
      options.endpointCheckTtlMs,
    );
  }

  /** The check of a push URL when a subscription is created or updated (`invalid_endpoint`). */
  checkEndpointConfig(url: string, pointer: string): Promise<void> {
    return checkEndpointConfig(
      url,
      this.allowPrivateEndpoints,
      pointer,
      this.#options.resolve ?? systemResolver,
    );
  }

  get allowPrivateEndpoints(): boolean {
    return this.#endpoints.allowPrivateEndpoints;
  }

  /** Starts a dispatcher for every push subscription, then re-reads the list periodically. */
  async start(): Promise<void> {
    // A store that is briefly unreachable (a NATS leader election) must not stop the router
    // from starting: the periodic reconcile below starts the dispatchers once it answers.
    await this.reconcile().catch((error: unknown) => {
      if (!isSwitchyardError(error) || error.code !== "engine_unavailable") throw error;
      this.#options.onError?.(error);
    });
    const every = this.#options.reconcileIntervalMs ?? 5_000;
    if (every > 0 && !this.#closed) {
      this.#timer = setInterval(() => {
        this.reconcile().catch((e: unknown) => this.#options.onError?.(e));
      }, every);
      this.#timer.unref();
    }
  }

  /** Brings the running dispatchers in line with the engine's subscriptions. */
  reconcile(): Promise<void> {
    const run = this.#reconciling.then(async () => {
      if (this.#closed) return;
      const configs = await this.#cursors.listSubscriptions();
      const seen = new Set<string>();
      for (const config of configs) {
        seen.add(config.name);
        this.#syncStored(config);
      }
      for (const name of this.#dispatchers.keys()) if (!seen.has(name)) void this.sync(name, null);
      this.#secrets.retain(seen);
    });
    // One failed pass (the store unreachable for a moment) must not fail every later one.
    this.#reconciling = run.catch(() => undefined);
    return run;
  }

  /** One config the engine returned; one that cannot be opened leaves its dispatcher as it is. */
  #syncStored(stored: SubscriptionConfig): void {
    let config: SubscriptionConfig;
    try {
      config = this.#secrets.open(stored);
    } catch (error) {
      this.#options.onError?.(error);
      return;
    }
    void this.sync(config.name, config);
  }

  /**
   * Starts, updates or stops the dispatcher of `name`; `config` (secrets opened) null means
   * deleted. A stop resolves once the requests in flight were aborted and settled (at most
   * `STOP_WAIT_MS`), so a PUT that turns push off or a DELETE answers only when no push
   * attempt of the subscription can still settle behind it.
   */
  sync(name: string, config: SubscriptionConfig | null): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const running = this.#dispatchers.get(name);
    if (config === null || config.push === null) {
      if (running === undefined) return Promise.resolve();
      this.#dispatchers.delete(name);
      const stopped = running.stop();
      this.#pruneCircuits();
      return boundedWait(stopped, STOP_WAIT_MS);
    }
    if (running !== undefined) {
      if (JSON.stringify(running.config) !== JSON.stringify(config)) running.update(config);
      return Promise.resolve();
    }
    const dispatcher = new Dispatcher(this.#deps(), config);
    this.#dispatchers.set(name, dispatcher);
    dispatcher.start();
    return Promise.resolve();
  }

  /** The health of a push subscription's delivery; null when no dispatcher runs for it. */
  health(name: string): PushHealth | null {
    return this.#dispatchers.get(name)?.health() ?? null;
  }

  /** Pauses (reason given) or resumes (null) a push subscription, durably. */
  async setPaused(name: string, reason: string | null): Promise<SubscriptionConfig | null> {
    const config = await this.#cursors.getSubscription(name);
    if (config === null || config.push === null) return config;
    const paused = reason === null ? null : { reason, at: this.#clock.now() };
    // The stored values stay sealed as they are; only the pause changes.
    const next: SubscriptionConfig = { ...config, push: { ...config.push, paused } };
    await this.#cursors.putSubscription(next);
    this.#syncStored(next);
    return next;
  }

  /** Stops every dispatcher (aborting requests in flight) and closes the HTTP pools. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.#reconciling.catch(() => undefined);
    const all = [...this.#dispatchers.values()];
    this.#dispatchers.clear();
    await Promise.all(all.map((d) => d.stop()));
    await this.#sender.close();
  }

  #deps() {
    return {
      cursors: this.#cursors,
      sender: this.#sender,
      endpoints: this.#endpoints,
      clock: this.#clock,
      circuitFor: (url: string) => this.#circuitFor(url),
      maxRequests:
        this.#options.sender?.connectionsPerEndpoint ?? SENDER_DEFAULTS.connectionsPerEndpoint,
      pause: async (name: string, reason: string) => {
        await this.setPaused(name, reason);
      },
      ...(this.#options.onError === undefined ? {} : { onError: this.#options.onError }),
      ...(this.#options.metrics === undefined ? {} : { metrics: this.#options.metrics }),
      ...(this.#options.tracing === undefined ? {} : { tracing: this.#options.tracing }),
      ...(this.#options.log === undefined ? {} : { log: this.#options.log }),
    };
  }

  #circuitFor(url: string): CircuitBreaker {
    let circuit = this.#circuits.get(url);
    if (circuit === undefined) {
      circuit = new CircuitBreaker(this.#clock, this.#options.circuit);
      this.#circuits.set(url, circuit);
    }
    return circuit;
  }

  #pruneCircuits(): void {
    const used = new Set([...this.#dispatchers.values()].map((d) => d.config.push?.url));
    for (const url of this.#circuits.keys()) if (!used.has(url)) this.#circuits.delete(url);
  }
}
