import type { StartPosition } from "../core/positions.js";
import type { HttpRequest, HttpTransport } from "./http.js";
import { segment } from "./http.js";
import type {
  ApiKey,
  AsyncApiDocument,
  CreatedApiKey,
  Flow,
  KeySelf,
  KeySettings,
  LogPage,
  PulledDelivery,
  PushAttempt,
  RedriveRequest,
  RedriveStarted,
  RedriveStatus,
  RouterInfo,
  SettleResult,
  Subscription,
  SubscriptionSettings,
  Topic,
  TopicSettings,
} from "./resources.js";
import { type RetryPolicy, withRetry } from "./retry.js";
import { createSchemasAdmin, type SchemasAdmin } from "./schemas-admin.js";

export interface TopicsAdmin {
  /** Creates (`created: true`) or updates a topic. */
  put(name: string, settings?: TopicSettings): Promise<{ topic: Topic; created: boolean }>;
  get(name: string): Promise<Topic>;
  list(): Promise<Topic[]>;
  /** `force` also deletes the subscriptions that read the topic. */
  delete(name: string, options?: { force?: boolean }): Promise<void>;
}

export interface SubscriptionsAdmin {
  /** Creates or updates; an update keeps the position (`start` applies at creation only). */
  put(
    name: string,
    settings: SubscriptionSettings,
  ): Promise<{ subscription: Subscription; created: boolean }>;
  get(name: string): Promise<Subscription>;
  list(): Promise<Subscription[]>;
  delete(name: string): Promise<void>;
  /** Push subscriptions: stop delivering until `resume` (durable; survives restarts). */
  pause(name: string, reason?: string): Promise<Subscription>;
  resume(name: string): Promise<Subscription>;
  /** The push attempt log, newest first (router default 100 entries, at most 1000). */
  attempts(name: string, options?: AttemptsOptions): Promise<PushAttempt[]>;
}

export interface AttemptsOptions {
  /** Only attempts of the event with this id. */
  readonly eventId?: string;
  readonly limit?: number;
}

export interface ReadOptions {
  /** First offset to read (inclusive). */
  readonly from?: number;
  /** Or: the first event appended at or after this time. */
  readonly since?: string | Date;
  /** At most this many events (router default 100, at most 1000). */
  readonly limit?: number;
}

export interface PullOptions {
  readonly max?: number;
  /** Wait up to this long for a first delivery (default 0: answer at once). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
}

/** Where `seek` moves a subscription; a `Date` means `{ time }`, a number `{ offset }`. */
export type SeekTarget = StartPosition | Date | number;

/** API keys (`admin` scope, except `self`). */
export interface KeysAdmin {
  /** The answer holds the whole key: it is never shown again. */
  create(settings: KeySettings): Promise<CreatedApiKey>;
  list(): Promise<ApiKey[]>;
  revoke(id: string): Promise<void>;
  /** The key this client authenticates with. */
  self(): Promise<KeySelf>;
}

export interface Admin {
  readonly topics: TopicsAdmin;
  readonly subscriptions: SubscriptionsAdmin;
  readonly keys: KeysAdmin;
  /** The schema registry: versions of a JSON Schema per event type. */
  readonly schemas: SchemasAdmin;
  /**
   * One correlation id's events across topics indexed by `correlationid` (at most `limit`,
   * default 1,000, at most 10,000). Rejects with `index_missing` while an index is built.
   */
  flow<T = unknown>(correlationId: string, options?: { limit?: number }): Promise<Flow<T>>;
  /** One page of a topic's log. */
  read<T = unknown>(topic: string, options?: ReadOptions): Promise<LogPage<T>>;
  pull<T = unknown>(subscription: string, options?: PullOptions): Promise<PulledDelivery<T>[]>;
  ack(subscription: string, ackIds: readonly string[]): Promise<SettleResult[]>;
  /** Without `delayMs` the subscription's backoff applies. */
  nack(subscription: string, ackIds: readonly string[], delayMs?: number): Promise<SettleResult[]>;
  /** Renews each lease to last `leaseMs` from now (default: the subscription's `ackTimeoutMs`). */
  extend(
    subscription: string,
    ackIds: readonly string[],
    leaseMs?: number,
  ): Promise<SettleResult[]>;
  /** Straight to the dead-letter topic, with `reason`. */
  reject(subscription: string, ackIds: readonly string[], reason: string): Promise<SettleResult[]>;
  seek(subscription: string, to: SeekTarget): Promise<{ position: number }>;
  redrive(subscription: string, request?: RedriveRequest): Promise<RedriveStarted>;
  redriveStatus(subscription: string, id: string): Promise<RedriveStatus>;
  info(): Promise<RouterInfo>;
  /** The AsyncAPI 3.0 document of the topics and subscriptions this key may see. */
  asyncApi(): Promise<AsyncApiDocument>;
  /** `alive`: /healthz answers 2xx; `ready`: /readyz does (the engine is reachable). */
  health(): Promise<{ alive: boolean; ready: boolean }>;
}

const topicPath = (name: string): string => `/v1/topics/${segment(name)}`;
const subPath = (name: string): string => `/v1/subscriptions/${segment(name)}`;

export function seekPosition(to: SeekTarget): StartPosition {
  if (to instanceof Date) return { time: to.toISOString() };
  if (typeof to === "number") return { offset: to };
  return to;
}

/** Admin calls over HTTP. Reads and PUTs (idempotent) are retried like publishes. */
export function createAdmin(http: HttpTransport, retry: RetryPolicy): Admin {
  const call = async <T>(request: HttpRequest): Promise<T> => (await http.request<T>(request)).body;
  const idempotent = <T>(request: HttpRequest): Promise<T> =>
    withRetry(() => call<T>(request), retry);
  const settle = (name: string, verb: string, json: object): Promise<SettleResult[]> =>
    call<{ results: SettleResult[] }>({
      method: "POST",
      path: `${subPath(name)}/${verb}`,
      json,
    }).then((body) => body.results);

  const topics: TopicsAdmin = {
    async put(name, settings = {}) {
      const res = await withRetry(
        () => http.request<Topic>({ method: "PUT", path: topicPath(name), json: settings }),
        retry,
      );
      return { topic: res.body, created: res.status === 201 };
    },
    get: (name) => idempotent<Topic>({ method: "GET", path: topicPath(name) }),
    list: async () =>
      (await idempotent<{ topics: Topic[] }>({ method: "GET", path: "/v1/topics" })).topics,
    delete: async (name, options = {}) => {
      await call({
        method: "DELETE",
        path: topicPath(name),
        query: { force: options.force ? true : undefined },
      });
    },
  };

  const subscriptions: SubscriptionsAdmin = {
    async put(name, settings) {
      const res = await withRetry(
        () => http.request<Subscription>({ method: "PUT", path: subPath(name), json: settings }),
        retry,
      );
      return { subscription: res.body, created: res.status === 201 };
    },
    get: (name) => idempotent<Subscription>({ method: "GET", path: subPath(name) }),
    list: async () =>
      (
        await idempotent<{ subscriptions: Subscription[] }>({
          method: "GET",
          path: "/v1/subscriptions",
        })
      ).subscriptions,
    delete: async (name) => {
      await call({ method: "DELETE", path: subPath(name) });
    },
    pause: (name, reason) =>
      idempotent<Subscription>({
        method: "POST",
        path: `${subPath(name)}/pause`,
        json: reason === undefined ? {} : { reason },
      }),
    resume: (name) =>
      idempotent<Subscription>({ method: "POST", path: `${subPath(name)}/resume`, json: {} }),
    attempts: async (name, options = {}) =>
      (
        await idempotent<{ attempts: PushAttempt[] }>({
          method: "GET",
          path: `${subPath(name)}/attempts`,
          query: {
            ...(options.eventId === undefined ? {} : { eventId: options.eventId }),
            ...(options.limit === undefined ? {} : { limit: options.limit }),
          },
        })
      ).attempts,
  };

  const keys: KeysAdmin = {
    create: (settings) =>
      call<CreatedApiKey>({
        method: "POST",
        path: "/v1/keys",
        json: {
          ...settings,
          ...(settings.expiresAt instanceof Date
            ? { expiresAt: settings.expiresAt.toISOString() }
            : {}),
        },
      }),
    list: async () =>
      (await idempotent<{ keys: ApiKey[] }>({ method: "GET", path: "/v1/keys" })).keys,
    revoke: async (id) => {
      await call({ method: "DELETE", path: `/v1/keys/${segment(id)}` });
    },
    self: () => idempotent<KeySelf>({ method: "GET", path: "/v1/keys/self" }),
  };

  return {
    topics,
    subscriptions,
    keys,
    schemas: createSchemasAdmin(http, retry),
    flow: <T>(correlationId: string, options: { limit?: number } = {}) =>
      idempotent<Flow<T>>({
        method: "GET",
        path: `/v1/flows/${segment(correlationId)}`,
        query: { limit: options.limit },
      }),
    read: <T>(topic: string, options: ReadOptions = {}) =>
      idempotent<LogPage<T>>({
        method: "GET",
        path: `${topicPath(topic)}/events`,
        query: {
          from: options.from,
          since: options.since instanceof Date ? options.since.toISOString() : options.since,
          limit: options.limit,
        },
      }),
    pull: async <T>(name: string, options: PullOptions = {}) => {
      const waitMs = options.waitMs ?? 0;
      const body = await call<{ deliveries: PulledDelivery<T>[] }>({
        method: "POST",
        path: `${subPath(name)}/pull`,
        json: { max: options.max ?? 100, waitMs },
        timeoutMs: waitMs + 30_000,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return body.deliveries;
    },
    ack: (name, ackIds) => settle(name, "ack", { ackIds }),
    nack: (name, ackIds, delayMs) =>
      settle(name, "nack", delayMs === undefined ? { ackIds } : { ackIds, delayMs }),
    extend: (name, ackIds, leaseMs) =>
      settle(name, "extend", leaseMs === undefined ? { ackIds } : { ackIds, leaseMs }),
    reject: (name, ackIds, reason) => settle(name, "reject", { ackIds, reason }),
    seek: (name, to) =>
      call({ method: "POST", path: `${subPath(name)}/seek`, json: { to: seekPosition(to) } }),
    redrive: (name, request = {}) =>
      call({ method: "POST", path: `${subPath(name)}/redrive`, json: request }),
    redriveStatus: (name, id) =>
      idempotent({ method: "GET", path: `${subPath(name)}/redrives/${segment(id)}` }),
    info: () => idempotent({ method: "GET", path: "/v1/info" }),
    asyncApi: () => idempotent({ method: "GET", path: "/v1/asyncapi.json" }),
    health: async () => ({
      alive: await answers(http, "/healthz"),
      ready: await answers(http, "/readyz"),
    }),
  };
}

async function answers(http: HttpTransport, path: string): Promise<boolean> {
  try {
    await http.request({ method: "GET", path });
    return true;
  } catch {
    return false;
  }
}
