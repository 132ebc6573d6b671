import type { Clock } from "../../core/clock.js";
import type { SubscriptionConfig } from "../../core/config.js";
import type { AttemptRecord, CursorStore, Delivery } from "../../engine/engine.js";
import { eventIds, type Log } from "../log.js";
import type { LabelledCounter, LabelledHistogram } from "../metrics.js";
import type { RouterTracing } from "../tracing.js";
import { AckBatcher } from "./ack-batcher.js";
import {
  type AttemptContext,
  type AttemptResult,
  type AttemptTarget,
  attemptDelivery,
} from "./attempt.js";
import { chunkDeliveries } from "./batches.js";
import type { CircuitBreaker, CircuitState } from "./circuit.js";
import { classifyOutcome, isEndpointFault, type Verdict } from "./classify.js";
import type { EndpointChecker } from "./endpoint-checker.js";
import { RateLimiter } from "./rate-limiter.js";
import type { PushSender } from "./sender.js";
import { type Settlement, settlementFor } from "./settle-policy.js";
import { signingKeys } from "./signing.js";
import { Waker } from "./waker.js";

/**
 * Turns one push subscription's leases into signed HTTP POSTs. Engine-agnostic: it only
 * leases and settles through the `CursorStore`, so per-key ordering, redelivery and
 * dead-lettering are the engine's, and the attempt log commits with each settle.
 *
 * The loop leases as much as the subscription's `maxInFlight`, the endpoint's circuit and
 * the rate limit allow, sends each delivery (or batch) without waiting for the previous one,
 * and settles each as its answer arrives.
 */

export type PushState = "healthy" | "degraded" | "paused";

export interface PushHealth {
  readonly state: PushState;
  readonly circuit: CircuitState;
  readonly consecutiveFailures: number;
  /** Why it is paused (pause API, or the endpoint answered 410). */
  readonly reason?: string;
}

export interface PushMetrics {
  readonly pushRequests: LabelledCounter;
  readonly pushFailures: LabelledCounter;
  readonly pushedEvents: LabelledCounter;
  readonly deliveryLatency: LabelledHistogram;
}

export interface DispatcherDeps {
  readonly cursors: CursorStore;
  readonly sender: PushSender;
  readonly endpoints: EndpointChecker;
  readonly clock: Clock;
  /** The circuit of an endpoint URL, shared by the subscriptions that push to it. */
  readonly circuitFor: (url: string) => CircuitBreaker;
  /** Persists a pause (the endpoint answered 410 Gone). */
  readonly pause: (subscription: string, reason: string) => Promise<void>;
  /** Requests in flight at most per subscription (the sender's connections per endpoint). */
  readonly maxRequests: number;
  /** Counters for `/metrics`. */
  readonly metrics?: PushMetrics;
  /** Reports errors the loop survives (engine hiccups); defaults to ignoring them. */
  readonly onError?: (error: unknown) => void;
  readonly random?: () => number;
  readonly tracing?: RouterTracing;
  /** One line per settled push delivery: debug when delivered, info on a retry, warn on a dead letter. */
  readonly log?: Log;
}

/** How long one lease call waits for events before the loop looks around again. */
const LEASE_WAIT_MS = 1_000;
/** Extra lease time beyond the request timeout, so a slow answer is settled before expiry. */
const LEASE_MARGIN_MS = 5_000;
/** Pause after an engine error before leasing again. */
const ERROR_PAUSE_MS = 200;

export class Dispatcher {
  readonly #deps: DispatcherDeps;
  readonly #waker: Waker;
  readonly #stop = new AbortController();
  readonly #acks: AckBatcher;
  readonly #inFlight = new Set<Promise<void>>();
  /** One per request in flight: a shared signal would collect thousands of listeners. */
  readonly #requestAborts = new Set<AbortController>();
  #config: SubscriptionConfig;
  #target: AttemptTarget;
  #rate: RateLimiter | null;
  #events = 0;
  #requests = 0;
  #loop: Promise<void> | null = null;
  #leaseAbort = new AbortController();

  constructor(deps: DispatcherDeps, config: SubscriptionConfig) {
    this.#deps = deps;
    this.#waker = new Waker(deps.clock);
    this.#config = config;
    this.#target = targetOf(config);
    this.#rate = rateOf(config, deps.clock);
    this.#acks = new AckBatcher(deps.cursors, config.name);
  }

  get name(): string {
    return this.#config.name;
  }

  get config(): SubscriptionConfig {
    return this.#config;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Applies a changed config (URL, secrets, pause...) from the next lease on. */
  update(config: SubscriptionConfig): void {
    if (config.push === null) return;
    const rateChanged = config.push.ratePerSecond !== this.#config.push?.ratePerSecond;
    this.#config = config;
    this.#target = targetOf(config);
    if (rateChanged) this.#rate = rateOf(config, this.#deps.clock);
    this.#leaseAbort.abort(); // a waiting lease may have been asked for too much
    this.#waker.wake();
  }

  health(): PushHealth {
    const paused = this.#config.push?.paused;
    const circuit = this.#circuit();
    const base = { circuit: circuit.state, consecutiveFailures: circuit.consecutiveFailures };
    if (paused != null) return { ...base, state: "paused", reason: paused.reason };
    const healthy = circuit.state === "closed" && circuit.consecutiveFailures === 0;
    return { ...base, state: healthy ? "healthy" : "degraded" };
  }

  /** Stops leasing, aborts requests in flight, waits for their settles. Idempotent. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#leaseAbort.abort();
    for (const request of this.#requestAborts) request.abort();
    this.#waker.wake();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    await this.#acks.drain();
  }

  #circuit(): CircuitBreaker {
    return this.#deps.circuitFor(this.#target.push.url);
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        await this.#step();
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        this.#deps.onError?.(error);
        await this.#waker.sleep(ERROR_PAUSE_MS);
      }
    }
  }

  /** Leases what the limits allow now, or sleeps until something changes. */
  async #step(): Promise<void> {
    const room = this.#room();
    if (room.requests <= 0) {
      await this.#waker.sleep(room.retryInMs);
      return;
    }
    const deliveries = await this.#lease(room.events);
    if (deliveries.length === 0) return;
    const chunks = chunkDeliveries(deliveries, this.#target.push.batch ?? null);
    this.#rate?.take(chunks.length);
    for (const chunk of chunks) this.#track(this.#deliver(chunk));
  }

  #room(): { requests: number; events: number; retryInMs: number } {
    const push = this.#target.push;
    if (push.paused != null) return { requests: 0, events: 0, retryInMs: 60_000 };
    const circuit = this.#circuit();
    const byCircuit = circuit.allowance(this.#requests);
    const byRate = this.#rate?.available() ?? Number.POSITIVE_INFINITY;
    const perRequest = push.batch?.maxEvents ?? 1;
    const freeEvents = this.#config.maxInFlight - this.#events;
    const window = Math.min(
      this.#deps.maxRequests,
      Math.ceil(this.#config.maxInFlight / perRequest),
    );
    const capacity = Math.min(window - this.#requests, Math.ceil(freeEvents / perRequest));
    // With requests running, wait for a quarter of the window to free: fewer, larger leases.
    const worthIt = this.#requests === 0 || capacity >= Math.max(1, Math.floor(window / 4));
    const requests = worthIt ? Math.min(byCircuit, byRate, capacity) : 0;
    const events = Math.min(freeEvents, requests * perRequest, 1_000);
    const retryInMs =
      byCircuit === 0 && circuit.state === "open"
        ? circuit.msUntilProbe()
        : byRate < 1 && this.#rate !== null
          ? this.#rate.msUntilToken()
          : 60_000; // woken by a finishing delivery
    return { requests: events > 0 ? requests : 0, events, retryInMs };
  }

  async #lease(max: number): Promise<readonly Delivery[]> {
    this.#leaseAbort = new AbortController();
    const push = this.#target.push;
    const linger = push.batch?.lingerMs ?? 0;
    const request = {
      max,
      waitMs: LEASE_WAIT_MS,
      leaseMs: Math.max(this.#config.ackTimeoutMs, push.timeoutMs + linger + LEASE_MARGIN_MS),
      signal: this.#leaseAbort.signal,
    };
    try {
      const first = await this.#deps.cursors.lease(this.#config.name, request);
      if (linger <= 0 || first.length === 0 || first.length >= max) return first;
      return await this.#linger(first, max, linger, request);
    } catch (error) {
      if (request.signal.aborted) return []; // stop or a config change cut the wait short
      throw error;
    }
  }

  /** Batch mode: waits up to `lingerMs` for a partly filled batch to fill. */
  async #linger(
    first: readonly Delivery[],
    max: number,
    lingerMs: number,
    request: { leaseMs: number; signal: AbortSignal },
  ): Promise<readonly Delivery[]> {
    const all = [...first];
    const until = this.#deps.clock.now() + lingerMs;
    try {
      while (all.length < max && !request.signal.aborted) {
        const waitMs = until - this.#deps.clock.now();
        if (waitMs <= 0) break;
        const more = await this.#deps.cursors.lease(this.#config.name, {
          ...request,
          max: max - all.length,
          waitMs,
        });
        all.push(...more);
      }
    } catch (error) {
      if (!request.signal.aborted) this.#deps.onError?.(error);
    }
    return all; // what was leased is sent, never dropped
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => {
      this.#inFlight.delete(work);
      this.#waker.wake();
    });
  }

  async #deliver(deliveries: readonly Delivery[]): Promise<void> {
    this.#events += deliveries.length;
    try {
      if (this.#stop.signal.aborted) {
        // Stopping before the request left: not an attempt, the events go back unused.
        const ackIds = deliveries.map((d) => d.ackId);
        await this.#deps.cursors.release(this.#config.name, ackIds);
        return;
      }
      const target = this.#target;
      const result = await this.#send(target, deliveries);
      if (result.outcome.kind === "error" && result.outcome.error === "aborted") {
        // Stopping: hand the events back at once, for this node after a restart or another.
        const ackIds = deliveries.map((d) => d.ackId);
        await this.#deps.cursors.nack(this.#config.name, ackIds, 0, result.records);
        return;
      }
      const onClientError = target.push.onClientError ?? "retry";
      const verdict = classifyOutcome(result.outcome, onClientError, this.#deps.clock.now());
      this.#recordHealth(verdict, isEndpointFault(result.outcome), deliveries.length);
      await this.#settleAll(deliveries, verdict, result.records);
    } catch (error) {
      this.#deps.onError?.(error); // the lease expires and the engine redelivers
    } finally {
      this.#events -= deliveries.length;
    }
  }

  /** The HTTP request; its slot frees as soon as the answer is in, before the settle commits. */
  async #send(target: AttemptTarget, deliveries: readonly Delivery[]): Promise<AttemptResult> {
    this.#requests++;
    const abort = new AbortController();
    this.#requestAborts.add(abort);
    if (this.#stop.signal.aborted) abort.abort();
    try {
      return await attemptDelivery(this.#context(abort.signal), target, deliveries);
    } finally {
      this.#requestAborts.delete(abort);
      this.#requests--;
      this.#waker.wake();
    }
  }

  #context(signal: AbortSignal): AttemptContext {
    return {
      sender: this.#deps.sender,
      endpoints: this.#deps.endpoints,
      now: () => this.#deps.clock.now(),
      signal,
      ...(this.#deps.tracing === undefined ? {} : { tracing: this.#deps.tracing }),
    };
  }

  #recordHealth(verdict: Verdict, endpointFault: boolean, events: number): void {
    const metrics = this.#deps.metrics;
    const name = this.#config.name;
    metrics?.pushRequests.add(name);
    if (verdict.action === "ack") metrics?.pushedEvents.add(name, events);
    else metrics?.pushFailures.add(name);
    const circuit = this.#circuit();
    if (verdict.action === "ack") circuit.recordSuccess();
    else circuit.recordFailure(endpointFault);
    if (verdict.action === "pause") {
      const reason = `the endpoint answered ${verdict.reason}`;
      this.#config = pausedConfig(this.#config, reason, this.#deps.clock.now());
      this.#target = targetOf(this.#config);
      this.#deps.pause(this.#config.name, reason).catch((e: unknown) => this.#deps.onError?.(e));
    }
  }

  async #settleAll(
    deliveries: readonly Delivery[],
    verdict: Verdict,
    records: readonly AttemptRecord[],
  ): Promise<void> {
    if (verdict.action === "ack") {
      await this.#acks.ack(
        deliveries.map((d) => d.ackId),
        records,
      );
      this.#logSettled(deliveries, records, { op: "ack" });
      const latency = this.#deps.metrics?.deliveryLatency;
      const now = Date.now();
      for (const d of deliveries)
        latency?.observe(this.#config.name, Math.max(0, now - d.record.appendedAt) / 1000);
      return;
    }
    const cursors = this.#deps.cursors;
    const name = this.#config.name;
    const now = this.#deps.clock.now();
    await Promise.all(
      deliveries.map(async (delivery, i) => {
        const record = records.slice(i, i + 1);
        const random = this.#deps.random;
        const input = { config: this.#config, delivery, verdict, now };
        const s = settlementFor(random === undefined ? input : { ...input, random });
        if (s.op === "reject") await cursors.reject(name, [delivery.ackId], s.reason, record);
        else if (s.op === "nack") await cursors.nack(name, [delivery.ackId], s.delayMs, record);
        this.#logSettled([delivery], record, s);
      }),
    );
  }

  #logSettled(
    deliveries: readonly Delivery[],
    records: readonly AttemptRecord[],
    settlement: Settlement,
  ): void {
    const log = this.#deps.log;
    const level = settlement.op === "ack" ? "debug" : settlement.op === "nack" ? "info" : "warn";
    if (log === undefined || !log.isLevelEnabled(level)) return;
    const message =
      settlement.op === "ack"
        ? "push delivered"
        : settlement.op === "nack"
          ? "push attempt failed; retrying"
          : "push delivery dead-lettered";
    deliveries.forEach((delivery, i) => {
      const record = records[i];
      const { eventId, correlationId } = eventIds(delivery.record.body);
      log[level](
        {
          subscription: this.#config.name,
          topic: delivery.record.topic,
          offset: delivery.record.offset,
          eventId,
          correlationId,
          attempt: delivery.attempt,
          status: record?.status ?? null,
          latencyMs: record?.latencyMs,
          error: record?.error ?? null,
          ...(settlement.op === "nack" ? { retryInMs: settlement.delayMs } : {}),
          ...(settlement.op === "reject" ? { reason: settlement.reason } : {}),
        },
        message,
      );
    });
  }
}

function targetOf(config: SubscriptionConfig): AttemptTarget {
  if (config.push === null) throw new Error(`subscription ${config.name} has no push config`);
  return { subscription: config.name, push: config.push, keys: signingKeys(config.push.secrets) };
}

function rateOf(config: SubscriptionConfig, clock: Clock): RateLimiter | null {
  const rate = config.push?.ratePerSecond;
  return rate == null ? null : new RateLimiter(rate, clock);
}

function pausedConfig(config: SubscriptionConfig, reason: string, at: number): SubscriptionConfig {
  return config.push === null
    ? config
    : { ...config, push: { ...config.push, paused: { reason, at } } };
}
