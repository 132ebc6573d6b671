import { type Admin, createAdmin } from "./admin.js";
import { type Aggregate, type AggregateOptions, createAggregate } from "./aggregate.js";
import type { BatchLimits } from "./batcher.js";
import { currentCause } from "./correlation.js";
import { clientError } from "./errors.js";
import type { AnyEvents, PublishFunction, SubscribeFunction } from "./event-map.js";
import { type Fetch, HttpTransport, segment } from "./http.js";
import type { PublishResult } from "./publish-sender.js";
import { buildEvent, Publisher } from "./publisher.js";
import type { StoredEventOf } from "./resources.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from "./retry.js";
import {
  type Handler,
  StreamSubscriber,
  type SubscribeOptions,
  type Subscriber,
} from "./subscriber.js";
import { type CertificateAuthority, fetchTrusting } from "./tls.js";

export interface BatchOptions {
  /**
   * How long a lone event waits for others to share its request (default 5 ms); 0: no timer,
   * the request goes once the current event-loop turn is done (what it published goes together).
   */
  readonly lingerMs?: number;
  /** Events per request at most (default 1000; the router accepts up to 10000). */
  readonly maxEvents?: number;
  /** Bytes of events per request at most (default 4 MiB; the router accepts 16 MiB bodies). */
  readonly maxBytes?: number;
  /**
   * Requests per topic in flight at once (default 4), so their commits can share the router's
   * fsync. Events with one `partitionkey` are never in two at once: their order is kept.
   */
  readonly maxInFlight?: number;
}

export interface ClientOptions {
  /** The router, e.g. `http://127.0.0.1:8420`. */
  readonly url: string;
  /** Defaults to the global `fetch`. */
  readonly fetch?: Fetch;
  /**
   * PEM certificate(s) of the CA that signed an HTTPS router's certificate, trusted besides
   * Node's bundled roots, for requests and streams alike (ignored when `fetch` is given).
   */
  readonly ca?: CertificateAuthority;
  /** Sent with every request and stream (e.g. an authorization header). */
  readonly headers?: Readonly<Record<string, string>>;
  /** An API key (`sy_…`), sent as `Authorization: Bearer` on every request and stream. */
  readonly apiKey?: string;
  /** `source` of published events that name none (default "switchyard-client"). */
  readonly source?: string;
  /** Per-request timeout (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly batch?: BatchOptions;
  /** Retries of publishes and idempotent admin calls (default 8 retries, 50 ms doubling to 5 s). */
  readonly retry?: Partial<RetryPolicy>;
}

export interface SubjectReadOptions {
  /** First version to read (inclusive; default 1). */
  readonly fromVersion?: number;
  /** At most this many events (router default 100, at most 1000). */
  readonly limit?: number;
}

/** One page of a subject's stream (API.md "Event streams per subject"). */
export interface SubjectPage<T = unknown> {
  /** Each carries `subjectversion`. */
  readonly events: StoredEventOf<T>[];
  /** The stream's current version; 0 for an unknown subject. */
  readonly version: number;
  /** The first version retention still keeps. */
  readonly firstVersion: number;
  /** Pass as `fromVersion` to read on. */
  readonly next: number;
}

/**
 * A client. `M`, an event map such as the `EventMap` `switchyard codegen` writes, types what
 * `publish` accepts and what `subscribe` handlers get (see event-map.ts); without it any
 * event type goes.
 */
export interface SwitchyardClient<M extends object = AnyEvents> {
  readonly url: string;
  /** Publishes one event or an array (in order), batched with other publishes to the topic. */
  readonly publish: PublishFunction<M>;
  /** Consumes a subscription: `handler` runs per event, at most `concurrency` at once. */
  readonly subscribe: SubscribeFunction<M>;
  readonly admin: Admin;
  /**
   * One subject's stream on a topic indexed by `subject`, in version order, from
   * `fromVersion` (default 1); `version` is the stream's current one (0: unknown subject).
   */
  readSubject<T = unknown>(
    topic: string,
    subject: string,
    options?: SubjectReadOptions,
  ): Promise<SubjectPage<T>>;
  /**
   * An event-sourced entity type on a topic indexed by `subject`: `load` folds a subject's
   * stream with `evolve`, `handle` decides on a command and appends the decision at the
   * version it was made on, deciding again on conflict (docs/event-sourcing.md "Aggregates").
   */
  aggregate<S, C, Tx = never>(options: AggregateOptions<S, C, Tx>): Aggregate<S, C, Tx>;
  /** Resolves when every publish so far is answered. */
  flush(): Promise<void>;
  /** Closes every subscriber (waiting for its handlers), then sends what is still queued. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export const DEFAULT_BATCH: BatchLimits = {
  lingerMs: 5,
  maxItems: 1_000,
  maxBytes: 4 * 1024 * 1024,
  maxInFlight: 4,
};

/** `createClient<EventMap>(…)` types events by the map; `createClient(…)` leaves them untyped. */
export function createClient<M extends object = AnyEvents>(
  options: ClientOptions,
): SwitchyardClient<M> {
  const fetch =
    options.fetch ?? (options.ca === undefined ? globalThis.fetch : fetchTrusting(options.ca));
  const headers =
    options.apiKey === undefined
      ? (options.headers ?? {})
      : { ...options.headers, authorization: `Bearer ${options.apiKey}` };
  const http = new HttpTransport({
    url: options.url,
    fetch: (url, init) => fetch(url, init),
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    headers,
  });
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const admin = createAdmin(http, retry);
  const source = options.source ?? "switchyard-client";
  const publisher = new Publisher(http, {
    source,
    batch: {
      lingerMs: options.batch?.lingerMs ?? DEFAULT_BATCH.lingerMs,
      maxItems: options.batch?.maxEvents ?? DEFAULT_BATCH.maxItems,
      maxBytes: options.batch?.maxBytes ?? DEFAULT_BATCH.maxBytes,
      maxInFlight: options.batch?.maxInFlight ?? DEFAULT_BATCH.maxInFlight,
    },
    retry,
  });
  const subscribers = new Set<Subscriber>();
  let closed = false;
  // Asked once, when a decision of several events first needs it.
  let atomicBatch: Promise<boolean> | undefined;
  const engineAppendsAtomically = (): Promise<boolean> => {
    atomicBatch ??= admin.info().then((info) => info.capabilities?.atomicBatch === true);
    atomicBatch.catch(() => {
      atomicBatch = undefined;
    });
    return atomicBatch;
  };

  const subscribe = <T>(
    name: string,
    handler: Handler<T>,
    opts: SubscribeOptions = {},
  ): Subscriber => {
    if (closed) throw clientError("shutting_down", "this client is closed");
    const subscriber = new StreamSubscriber<T>(
      name,
      handler,
      {
        admin,
        streamUrl: `${http.baseUrl.replace(/^http/, "ws")}/v1/subscriptions/${segment(name)}/stream`,
        headers,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        publish: (topic, events, cause) => publisher.publish(topic, events, cause),
      },
      opts,
    );
    subscribers.add(subscriber);
    void subscriber.closed.then(() => subscribers.delete(subscriber));
    void subscriber.start();
    return subscriber;
  };

  const client: SwitchyardClient = {
    url: http.baseUrl,
    publish: ((topic, events, publishOptions) =>
      publisher.publish(topic, events, undefined, publishOptions)) as PublishFunction,
    readSubject: <T>(topic: string, subject: string, readOptions: SubjectReadOptions = {}) =>
      withRetry(
        () =>
          http.request<SubjectPage<T>>({
            method: "GET",
            path: `/v1/topics/${segment(topic)}/subjects/${segment(subject)}/events`,
            query: { fromVersion: readOptions.fromVersion, limit: readOptions.limit },
          }),
        retry,
      ).then((answer) => answer.body),
    subscribe,
    admin,
    aggregate: (aggregateOptions) =>
      createAggregate(
        {
          readSubject: (topic, subject, readOptions) =>
            client.readSubject(topic, subject, readOptions),
          publishAt: (topic, events, expectedVersion) =>
            publisher.publish(topic, events, undefined, { expectedVersion }) as Promise<
              PublishResult[]
            >,
          atomicBatch: engineAppendsAtomically,
          build: (input) => buildEvent(input, source, currentCause()),
        },
        aggregateOptions,
      ),
    flush: () => publisher.flush(),
    async close(closeOptions = {}) {
      closed = true;
      await Promise.all([...subscribers].map((s) => s.close(closeOptions)));
      await publisher.close();
    },
  };
  // The map narrows only what the compiler accepts: the client is the same for every M.
  return client as unknown as SwitchyardClient<M>;
}
