import { mkdirSync } from "node:fs";
import { AuditTrail } from "./broker/audit.js";
import { Broker, type PushOptions, RouterTracing } from "./broker/broker.js";
import { IdleMemory } from "./broker/idle-memory.js";
import { type CreatedKey, generateKey, KeyStore, parseNewKey } from "./broker/keys.js";
import type { SchemaProblem } from "./broker/schemas/types.js";
import { assertValidSchema } from "./broker/schemas/validators.js";
import { SessionStore, type SessionTimes } from "./broker/sessions.js";
import { Topics } from "./broker/topics.js";
import { type Clock, systemClock } from "./core/clock.js";
import { publicUrlProblem } from "./core/dataschema.js";
import { SwitchyardError } from "./core/errors.js";
import { isLoopbackName, isWildcardAddress } from "./core/loopback.js";
import type { SecretKeyRing } from "./core/secret-box.js";
import { createEngine, type EngineOptions } from "./engine/create-engine.js";
import type { Engine } from "./engine/engine.js";
import type { NatsCredentials } from "./engine/nats/index.js";
import { loadSecretKeys } from "./engine/secret-key-file.js";
import { checkBind, prepareKeys, StartRefused } from "./server/auth/startup.js";
import { createRouterLogger } from "./server/logger.js";
import { RouterMetrics } from "./server/metrics.js";
import { createServer, listenUrl } from "./server/server.js";
import { VERSION } from "./server/version.js";

export type { SubscriptionView as Subscription, TopicView as Topic } from "./broker/broker.js";
/** The registry's check of a next version, without a router (`switchyard schema check --dir`). */
export { checkSchemaChange } from "./broker/schemas/compatibility.js";
export type {
  CompatibilityMode,
  CompatibilityResult,
  JsonSchema,
  SchemaProblem,
} from "./broker/schemas/types.js";
export { COMPATIBILITY_MODES, DEFAULT_COMPATIBILITY } from "./broker/schemas/types.js";
export type { Clock, Timer } from "./core/clock.js";
export type {
  BackoffConfig,
  PushConfig,
  RetentionConfig,
  SubscriptionConfig,
  TopicConfig,
  TopicIndex,
} from "./core/config.js";

import type { TopicIndex } from "./core/config.js";

export type { ErrorCode, FieldError } from "./core/errors.js";
export { ERROR_CATALOGUE, isSwitchyardError, SwitchyardError } from "./core/errors.js";
export type { CloudEvent, StoredEvent } from "./core/event.js";
export type { Filter } from "./core/filter.js";
export type { StartPosition } from "./core/positions.js";
export type { NatsCredentials } from "./engine/nats/index.js";
export { StartRefused } from "./server/auth/startup.js";

/** A fresh API key in the router's format (e.g. for SWITCHYARD_ADMIN_KEY); stores nothing. */
export function generateApiKey(): string {
  return generateKey().key;
}
export type { Problem } from "./server/problem.js";

/** An installation's JetStream: its servers, names, replicas and how to connect to them. */
export interface NatsOptions {
  readonly url: string;
  readonly prefix?: string;
  readonly replicas?: number;
  /** Credentials and TLS for the NATS connection (file contents, not paths). */
  readonly credentials?: NatsCredentials;
}

export interface RouterOptions {
  /** Interface to bind; default "127.0.0.1". */
  readonly host?: string;
  /** Default 8420; 0 picks any free port. */
  readonly port?: number;
  /** The store's folder (created if missing). */
  readonly dataDir: string;
  readonly engine?: "sqlite" | "nats";
  /** Dashboard session lifetimes (default 12 h, 1 h idle); shorter ones are for tests. */
  readonly sessionTimes?: Partial<SessionTimes>;
  readonly fsync?: "always" | "interval";
  /** The JetStream to use with `engine: "nats"` (every node of one installation the same). */
  readonly nats?: NatsOptions;
  /**
   * The keys sealing push secrets and header values in the store: `id:base64` entries (32
   * bytes each) separated by commas; the first seals, all open. Wins over `secretKeyFile`.
   */
  readonly secretKeys?: string;
  /**
   * A file holding that list. With neither, the embedded engine creates `secret.keys` (mode
   * 0600) in `dataDir` on first start; the NATS engine refuses to start.
   */
  readonly secretKeyFile?: string;
  /** Dev mode: publishing to or subscribing on an unknown topic creates it. Default false. */
  readonly autoCreateTopics?: boolean;
  /** The indexes auto-created topics get (`switchyard dev`: `correlationid`). Default none. */
  readonly autoCreateIndexes?: readonly TopicIndex[];
  /**
   * Require an API key on every route but the open ones (API.md "Access control"). Default
   * false for programmatic use; `switchyard serve` turns it on. Off needs a loopback `host`.
   */
  readonly auth?: boolean;
  /** A key (`sy_<id>_<secret>`) registered as admin at start if absent (SWITCHYARD_ADMIN_KEY). */
  readonly adminKey?: string;
  /**
   * The URL clients reach this router at (behind a proxy or on a wildcard bind): validated
   * events are stored with `dataschema` = `{publicUrl}/v1/schemas/{type}/versions/{n}`.
   * Default: the listen URL. Required when `host` is a wildcard (`0.0.0.0`, `::`) and a
   * topic enforces schemas.
   */
  readonly publicUrl?: string;
  /** Default "info". */
  readonly logLevel?: "fatal" | "error" | "warn" | "info" | "debug" | "silent";
  /** Serve HTTPS and WSS: the certificate chain and its private key, PEM. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly limits?: {
    readonly maxBodyBytes?: number;
    readonly maxBatchEvents?: number;
    /** Longest wait for a request's headers; default 10000, 0 disables. */
    readonly headersTimeoutMs?: number;
    /** A request body that sends nothing this long is answered 408; default 30000, 0 disables. */
    readonly bodyIdleTimeoutMs?: number;
    /** Idle keep-alive connections are closed after this long; default 72000, 0 disables. */
    readonly keepAliveTimeoutMs?: number;
  };
  /**
   * Push endpoints on loopback, private, link-local and cloud-metadata addresses are refused
   * unless this is on. Default false; `switchyard dev` turns it on.
   */
  readonly allowPrivateEndpoints?: boolean;
  /**
   * The router's time: event times, lease expiries, backoff, push retries and retention, and
   * the timers that act on them. Default the system clock; `switchyard/testing` passes a
   * manual one (docs/testing.md). The embedded engine only: JetStream keeps its own time.
   */
  readonly clock?: Clock;
  /** Push delivery tuning (defaults in docs/push.md). */
  readonly push?: {
    /** Consecutive failures that open an endpoint's circuit (default 5). */
    readonly circuitFailureThreshold?: number;
    /** First cool-down of an open circuit, doubled per failed probe (default 1000). */
    readonly circuitOpenMs?: number;
    /** Longest cool-down (default 60000). */
    readonly circuitMaxOpenMs?: number;
    /** TCP/TLS connect timeout of push requests (default 5000). */
    readonly connectTimeoutMs?: number;
  };
}

export interface Router {
  /** e.g. "http://127.0.0.1:8420". */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, finishes in-flight requests and commits, closes the engine. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_PORT = 8420;

function pushOptions(options: RouterOptions): PushOptions {
  const push = options.push ?? {};
  const circuit = {
    ...(push.circuitFailureThreshold === undefined
      ? {}
      : { failureThreshold: push.circuitFailureThreshold }),
    ...(push.circuitOpenMs === undefined ? {} : { openMs: push.circuitOpenMs }),
    ...(push.circuitMaxOpenMs === undefined ? {} : { maxOpenMs: push.circuitMaxOpenMs }),
  };
  return {
    allowPrivateEndpoints: options.allowPrivateEndpoints ?? false,
    circuit,
    ...(push.connectTimeoutMs === undefined
      ? {}
      : { sender: { connectTimeoutMs: push.connectTimeoutMs } }),
  };
}

interface TracingExport {
  readonly tracing: RouterTracing;
  shutdown(): Promise<void>;
}

/** API.md "Observability": the router exports spans when the `OTEL_*` variables ask for it. */
async function tracingFromEnv(): Promise<TracingExport | undefined> {
  const { OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT } = process.env;
  // Without an endpoint the SDK is never even loaded.
  if (!OTEL_EXPORTER_OTLP_ENDPOINT && !OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  const { startTracing } = await import("./client/tracing-export.js");
  let started: ReturnType<typeof startTracing>;
  try {
    started = startTracing({ serviceName: "switchyard", register: false });
  } catch (error) {
    // A bad OTEL_* value is the operator's to fix: one line, not a stack trace.
    throw new StartRefused(
      error instanceof Error ? error.message : String(error),
      "see the OTEL_* variables in docs/operations.md (Tracing)",
    );
  }
  if (started === undefined) return undefined;
  const tracer = started.provider.getTracer("switchyard", VERSION);
  return { tracing: new RouterTracing(tracer), shutdown: started.shutdown };
}

async function serve(
  engine: Engine,
  secretKeys: SecretKeyRing,
  options: RouterOptions,
): Promise<Router> {
  const exporting = await tracingFromEnv();
  const host = options.host ?? "127.0.0.1";
  const auth = options.auth ?? false;
  const keys = new KeyStore(engine.catalog);
  const sessions = new SessionStore(engine.catalog, keys, {
    ...(options.sessionTimes === undefined ? {} : { times: options.sessionTimes }),
  });
  const logger = createRouterLogger(options.logLevel ?? "info");
  const metrics = new RouterMetrics();
  const broker = new Broker({
    engine,
    log: logger,
    metrics,
    clock: options.clock ?? systemClock,
    secretKeys,
    autoCreateTopics: options.autoCreateTopics ?? false,
    autoCreateIndexes: options.autoCreateIndexes ?? [],
    push: pushOptions(options),
    ...(exporting === undefined ? {} : { tracing: exporting.tracing }),
    ...(options.limits?.maxBatchEvents === undefined
      ? {}
      : { maxBatchEvents: options.limits.maxBatchEvents }),
  });
  await retryWhileUnavailable(() => broker.sealStoredSecrets());
  // Before the first request: no publish reaches an unmarked dead-letter topic.
  await retryWhileUnavailable(() => broker.markDeadLetterTopics());
  await refuseEnforcingWithoutPublicUrl(broker, host, options.publicUrl);
  // Before the first publish: validation reads this node's view of the registry.
  await retryWhileUnavailable(() => broker.schemas.start());
  const { maxBodyBytes, headersTimeoutMs, bodyIdleTimeoutMs, keepAliveTimeoutMs } =
    options.limits ?? {};
  const server = await createServer({
    broker,
    metrics,
    keys,
    sessions,
    auth,
    logger,
    guards: {
      withoutAuth: !auth,
      loopbackBind: isLoopbackName(host),
      tls: options.tls !== undefined,
    },
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
    ...(headersTimeoutMs === undefined ? {} : { headersTimeoutMs }),
    ...(bodyIdleTimeoutMs === undefined ? {} : { bodyIdleTimeoutMs }),
    ...(keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeoutMs }),
  });
  let port: number;
  try {
    // After the server is built (a bad TLS key is reported first), before it listens.
    if (auth) {
      await prepareKeys(keys, options.adminKey, broker.audit);
      await keys.start();
      await sessions.start();
    }
    port = await server.listen(host, options.port ?? DEFAULT_PORT);
  } catch (error) {
    await server.close();
    await sessions.close();
    await keys.close();
    await broker.schemas.close();
    await exporting?.shutdown().catch(() => undefined);
    throw error;
  }
  await broker.startDispatchers();
  await retryWhileUnavailable(() => broker.startScheduler());
  const idle = new IdleMemory();
  let closed: Promise<void> | undefined;
  const close = async () => {
    idle.close();
    // Order matters: no new work, in-flight requests answered, background work done, then the store.
    await server.close();
    await sessions.close();
    await keys.close();
    await broker.close();
    await engine.close();
    await exporting?.shutdown().catch(() => undefined);
  };
  return {
    url: listenUrl(host, port, options.tls !== undefined),
    port,
    close: () => (closed ??= close()),
  };
}

/**
 * API.md: `publicUrl` must be set when the router binds a wildcard address and a topic
 * enforces schemas (its listen URL would name no reachable registry). Checked here at start
 * and by the topic PUT that turns enforcement on.
 */
async function refuseEnforcingWithoutPublicUrl(
  broker: Broker,
  host: string,
  publicUrl: string | undefined,
): Promise<void> {
  broker.configurePublicUrl({
    wildcardBind: isWildcardAddress(host),
    ...(publicUrl === undefined ? {} : { publicUrl }),
  });
  const enforcing = await retryWhileUnavailable(() => broker.topicsEnforcingWithoutPublicUrl());
  if (enforcing.length > 0)
    throw new StartRefused(
      `refusing to serve ${host} without a publicUrl: topic(s) ${enforcing.join(", ")} enforce schemas, and their events' dataschema must name a URL clients can reach`,
      "set --public-url https://<host clients use> (or SWITCHYARD_PUBLIC_URL, or publicUrl in the config file), or bind one address with --host",
    );
}

/**
 * Start-up work on a store that answers `engine_unavailable` for a moment (a NATS cluster
 * electing leaders after a node loss) is tried again, as the engine's own open is, rather
 * than stopping the router; any other failure stops it at once.
 */
async function retryWhileUnavailable<T>(work: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      const unavailable = error instanceof SwitchyardError && error.code === "engine_unavailable";
      if (!unavailable || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function engineOptions(options: RouterOptions): EngineOptions {
  if (options.engine !== "nats")
    return {
      kind: "sqlite",
      dataDir: options.dataDir,
      ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    };
  if (options.nats === undefined)
    throw new SwitchyardError("invalid_request", 'engine "nats" needs nats.url (--nats-url)');
  if (options.clock !== undefined)
    throw new SwitchyardError(
      "invalid_request",
      'a clock needs engine "sqlite": JetStream keeps its own time',
    );
  return natsEngineOptions(options.nats);
}

function natsEngineOptions(nats: NatsOptions): EngineOptions {
  return {
    kind: "nats",
    servers: nats.url,
    ...(nats.prefix === undefined ? {} : { prefix: nats.prefix }),
    ...(nats.replicas === undefined ? {} : { replicas: nats.replicas }),
    ...(nats.credentials === undefined ? {} : { credentials: nats.credentials }),
  };
}

/** Starts a router: opens the engine (in `dataDir`, or on NATS), then serves the HTTP API. */
export async function startRouter(options: RouterOptions): Promise<Router> {
  checkBind(options.auth ?? false, options.host ?? "127.0.0.1");
  const urlProblem =
    options.publicUrl === undefined ? undefined : publicUrlProblem(options.publicUrl);
  if (urlProblem !== undefined)
    throw new StartRefused(
      `publicUrl ${options.publicUrl} ${urlProblem}`,
      "pass the absolute http(s) URL clients reach the router at, e.g. https://events.example.com",
    );
  mkdirSync(options.dataDir, { recursive: true });
  const secretKeys = loadSecretKeys({
    engine: options.engine ?? "sqlite",
    dataDir: options.dataDir,
    ...(options.secretKeys === undefined ? {} : { keys: options.secretKeys }),
    ...(options.secretKeyFile === undefined ? {} : { file: options.secretKeyFile }),
  });
  const engine = await createEngine(engineOptions(options));
  try {
    await engine.ready();
    return await serve(engine, secretKeys, options);
  } catch (error) {
    await engine.close();
    throw error;
  }
}

/**
 * Where `switchyard keys create` writes offline: a stopped router's folder, or NATS with the
 * connection settings a router of the installation uses (credentials and TLS included).
 */
export type KeyStoreTarget = { readonly dataDir: string } | { readonly nats: NatsOptions };

/**
 * Creates a key straight in the store, without a router: the embedded engine takes the
 * store lock as a router does (a running router makes this refuse, naming its pid); on NATS
 * the Catalog's compare-and-set makes it safe while routers run. `request` is validated
 * like a `POST /v1/keys` body. The creation is audited like the route's, with a null actor
 * and `via: "cli"`; a failed audit append is reported to stderr and does not undo the key
 * (it would then be stored and never shown).
 */
export async function createKeyInStore(
  target: KeyStoreTarget,
  request: unknown,
): Promise<CreatedKey> {
  const parsed = parseNewKey(request, Date.now());
  const engine = await createEngine(
    "dataDir" in target
      ? { kind: "sqlite", dataDir: target.dataDir }
      : natsEngineOptions(target.nats),
  );
  try {
    await engine.ready();
    const created = await new KeyStore(engine.catalog).create(parsed);
    const { key: _secret, ...view } = created;
    const audit = new AuditTrail(engine, new Topics(engine, systemClock, false), systemClock, (e) =>
      process.stderr.write(
        `switchyard: the key was created, but its audit event could not be appended: ${e instanceof Error ? e.message : String(e)}\n`,
      ),
    );
    await audit.keyCreated(view, null, "cli");
    return created;
  } finally {
    await engine.close();
  }
}

/**
 * Whether `schema` is one the registry accepts (JSON Schema 2020-12 within its limits): the
 * problems, pointing into it, as a `PUT /v1/schemas/{type}` would answer `invalid_schema`.
 */
export function validateSchema(schema: unknown): readonly SchemaProblem[] {
  try {
    assertValidSchema(schema);
    return [];
  } catch (error) {
    if (error instanceof SwitchyardError && error.code === "invalid_schema") return error.errors;
    throw error;
  }
}
