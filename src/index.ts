import { mkdirSync } from "node:fs";
import { Broker, type PushOptions } from "./broker/broker.js";
import { type CreatedKey, generateKey, KeyStore, parseNewKey } from "./broker/keys.js";
import { SessionStore, type SessionTimes } from "./broker/sessions.js";
import { SwitchyardError } from "./core/errors.js";
import { isLoopbackName } from "./core/loopback.js";
import type { SecretKeyRing } from "./core/secret-box.js";
import { createEngine, type EngineOptions } from "./engine/create-engine.js";
import type { Engine } from "./engine/engine.js";
import type { NatsCredentials } from "./engine/nats/index.js";
import { loadSecretKeys } from "./engine/secret-key-file.js";
import { checkBind, prepareKeys } from "./server/auth/startup.js";
import { createServer } from "./server/server.js";

export type { SubscriptionView as Subscription, TopicView as Topic } from "./broker/broker.js";
export type {
  BackoffConfig,
  PushConfig,
  RetentionConfig,
  SubscriptionConfig,
  TopicConfig,
} from "./core/config.js";
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
  readonly nats?: {
    readonly url: string;
    readonly prefix?: string;
    readonly replicas?: number;
    /** Credentials and TLS for the NATS connection (file contents, not paths). */
    readonly credentials?: NatsCredentials;
  };
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
  /**
   * Require an API key on every route but the open ones (API.md "Access control"). Default
   * false for programmatic use; `switchyard serve` turns it on. Off needs a loopback `host`.
   */
  readonly auth?: boolean;
  /** A key (`sy_<id>_<secret>`) registered as admin at start if absent (SWITCHYARD_ADMIN_KEY). */
  readonly adminKey?: string;
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

function urlOf(host: string, port: number, tls: boolean): string {
  return `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

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

async function serve(
  engine: Engine,
  secretKeys: SecretKeyRing,
  options: RouterOptions,
): Promise<Router> {
  const host = options.host ?? "127.0.0.1";
  const auth = options.auth ?? false;
  const keys = new KeyStore(engine.catalog);
  const sessions = new SessionStore(engine.catalog, keys, {
    ...(options.sessionTimes === undefined ? {} : { times: options.sessionTimes }),
  });
  const broker = new Broker({
    engine,
    secretKeys,
    autoCreateTopics: options.autoCreateTopics ?? false,
    push: pushOptions(options),
    ...(options.limits?.maxBatchEvents === undefined
      ? {}
      : { maxBatchEvents: options.limits.maxBatchEvents }),
  });
  await retryWhileUnavailable(() => broker.sealStoredSecrets());
  // Before the first request: no publish reaches an unmarked dead-letter topic.
  await retryWhileUnavailable(() => broker.markDeadLetterTopics());
  // Before the first publish: validation reads this node's view of the registry.
  await retryWhileUnavailable(() => broker.schemas.start());
  const { maxBodyBytes, headersTimeoutMs, bodyIdleTimeoutMs, keepAliveTimeoutMs } =
    options.limits ?? {};
  const server = await createServer({
    broker,
    keys,
    sessions,
    auth,
    autoCreateTopics: options.autoCreateTopics ?? false,
    logLevel: options.logLevel ?? "info",
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
      await prepareKeys(keys, options.adminKey);
      await keys.start();
    }
    port = await server.listen(host, options.port ?? DEFAULT_PORT);
  } catch (error) {
    await server.close();
    await keys.close();
    await broker.schemas.close();
    throw error;
  }
  await broker.startDispatchers();
  let closed: Promise<void> | undefined;
  const close = async () => {
    // Order matters: no new work, in-flight requests answered, background work done, then the store.
    await server.close();
    await keys.close();
    await broker.close();
    await engine.close();
  };
  return {
    url: urlOf(host, port, options.tls !== undefined),
    port,
    close: () => (closed ??= close()),
  };
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
    };
  const nats = options.nats;
  if (nats === undefined)
    throw new SwitchyardError("invalid_request", 'engine "nats" needs nats.url (--nats-url)');
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

/** Where `switchyard keys create` writes offline: a stopped router's folder, or NATS. */
export type KeyStoreTarget =
  | { readonly dataDir: string }
  | { readonly nats: { readonly url: string; readonly prefix?: string } };

/**
 * Creates a key straight in the store, without a router: the embedded engine takes the
 * store lock as a router does (a running router makes this refuse, naming its pid); on NATS
 * the Catalog's compare-and-set makes it safe while routers run. `request` is validated
 * like a `POST /v1/keys` body.
 */
export async function createKeyInStore(
  target: KeyStoreTarget,
  request: unknown,
): Promise<CreatedKey> {
  const parsed = parseNewKey(request, Date.now());
  const engine = await createEngine(
    "dataDir" in target
      ? { kind: "sqlite", dataDir: target.dataDir }
      : {
          kind: "nats",
          servers: target.nats.url,
          ...(target.nats.prefix === undefined ? {} : { prefix: target.nats.prefix }),
        },
  );
  try {
    await engine.ready();
    return await new KeyStore(engine.catalog).create(parsed);
  } finally {
    await engine.close();
  }
}
