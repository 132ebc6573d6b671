import {
  createServer as createHttpServer,
  type ServerOptions as NodeServerOptions,
  type RequestListener,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import websocket from "@fastify/websocket";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Broker } from "../broker/broker.js";
import type { KeyStore } from "../broker/keys.js";
import type { SessionStore } from "../broker/sessions.js";
import { LIMITS } from "../core/config.js";
import { SwitchyardError } from "../core/errors.js";
import { declareScopes } from "./auth/auth.js";
import { authFailureReason } from "./auth/auth-failures.js";
import { RateLimiter } from "./auth/rate-limit.js";
import { bodyReader } from "./body-reader.js";
import { answerOnSocket, ClientErrors, ignoreUnknownExpectations } from "./client-errors.js";
import type { RouteContext } from "./context.js";
import type { HttpMetrics } from "./http-metrics.js";
import { LINGER_DEFAULTS, Lingering } from "./lingering-close.js";
import { createRouterLogger, type LogLevel, type RouterLogger } from "./logger.js";
import { RouterMetrics } from "./metrics.js";
import { asSwitchyardError, PROBLEM_CONTENT_TYPE, problemOf, retryAfterOf } from "./problem.js";
import { BATCH, STRUCTURED } from "./publish-request.js";
import { type GuardOptions, installRequestGuards } from "./request-guards.js";
import { asyncApiRoutes } from "./routes/asyncapi.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { deliveryRoutes } from "./routes/deliveries.js";
import { eventRoutes } from "./routes/events.js";
import { flowRoutes } from "./routes/flows.js";
import { keyRoutes } from "./routes/keys.js";
import { opsRoutes } from "./routes/ops.js";
import { pushRoutes } from "./routes/push.js";
import { scheduledRoutes } from "./routes/scheduled.js";
import { schemaInferRoutes } from "./routes/schema-infer.js";
import { schemaRoutes } from "./routes/schemas.js";
import { subscriptionRoutes } from "./routes/subscriptions.js";
import { topicRoutes } from "./routes/topics.js";
import { uiSessionRoutes } from "./routes/ui-session.js";
import { credentialCheck, StreamHub, streamRoute } from "./stream.js";

export type { LogLevel } from "./logger.js";

export interface ServerOptions {
  readonly broker: Broker;
  readonly logLevel?: LogLevel;
  /** The router's logger, shared with the broker; built from `logLevel` when absent. */
  readonly logger?: RouterLogger;
  readonly maxBodyBytes?: number;
  /** Longest wait for a request's headers (Node's `headersTimeout`); 0 disables. */
  readonly headersTimeoutMs?: number;
  /** A request body that sends nothing for this long is answered 408; 0 disables. */
  readonly bodyIdleTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this long; 0 disables. */
  readonly keepAliveTimeoutMs?: number;
  /** Serve HTTPS and WSS with this certificate chain and private key (PEM). */
  readonly tls?: TlsOptions;
  /** The request guards of `request-guards.ts`; default: without auth, on a loopback bind. */
  readonly guards?: GuardOptions;
  /** The installation's API keys (`/v1/keys`; with `auth`, every request's credential). */
  readonly keys: KeyStore;
  /** Require a Bearer key on every route but the open ones. Default false. */
  readonly auth?: boolean;
  /** Dashboard sessions (`/ui/session`); used only with `auth`. */
  readonly sessions?: SessionStore;
  /** The registry the broker was built with (`Broker({ metrics })`); a fresh one if absent. */
  readonly metrics?: RouterMetrics;
}

/**
 * How often open streams are checked against their key and session ending (API.md: within
 * 1 s) and against the staleness of the views that tell (closed within 5 s + this).
 */
const STREAM_KEY_SWEEP_MS = 250;

export interface TlsOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface RouteInfo {
  readonly method: string;
  /** The route pattern, e.g. `/v1/topics/:topic`. */
  readonly url: string;
}

/** The URL a server listening on `host`:`port` answers at, e.g. "http://127.0.0.1:8420". */
export function listenUrl(host: string, port: number, tls: boolean): string {
  return `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The HTTP + WebSocket API of API.md over a broker. */
export interface HttpServer {
  /** Listens on `host`:`port` (0: any free port); resolves with the port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Stops accepting (new requests answer 503 `shutting_down`), ends long polls early, closes
   * streams with 1001, and resolves when in-flight requests are answered. Idempotent.
   */
  close(): Promise<void>;
  readonly routes: readonly RouteInfo[];
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] as const;

function installParsers(app: FastifyInstance, maxBytes: number, idleTimeoutMs: number): void {
  app.removeAllContentTypeParsers();
  // Handlers get the raw text or bytes and parse once themselves.
  app.addContentTypeParser([STRUCTURED, BATCH], bodyReader({ maxBytes, idleTimeoutMs }, "string"));
  app.addContentTypeParser("*", bodyReader({ maxBytes, idleTimeoutMs }, "buffer"));
}

/** Node marks a request it handed to the `upgrade` listeners (not typed in @types/node). */
function isUpgrade(request: FastifyRequest): boolean {
  return (request.raw as { upgrade?: boolean }).upgrade === true;
}

type SendProblem = (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

/**
 * The error handler. An answer given before the request body has fully arrived (too large,
 * stalled, shutting down) closes the connection, lingering so the client reads it.
 */
function problemSender(lingering: Lingering, metrics: RouterMetrics): SendProblem {
  return (error, request, reply) => {
    const problem = problemOf(error);
    const refused = authFailureReason(problem.status, problem.code);
    if (refused !== null) metrics.authFailure(refused).inc();
    if (problem.status >= 500 && problem.code !== "shutting_down")
      request.log.error({ err: error }, "request failed");
    // An upgrade request's socket has left Node's HTTP server, and Fastify's framework errors
    // (bad URL, over-long parameter) skip the hooks @fastify/websocket closes it in: close it
    // here, or it stays open and holds close() forever.
    if (isUpgrade(request)) {
      const socket = request.raw.socket;
      reply.header("connection", "close");
      reply.raw.once("finish", () => socket.destroy());
    } else if (!request.raw.complete) lingering.afterResponse(reply.raw);
    if (problem.code === "unauthenticated") reply.header("www-authenticate", "Bearer");
    const retryAfter = retryAfterOf(asSwitchyardError(error));
    if (retryAfter !== undefined) reply.header("retry-after", String(retryAfter));
    return reply
      .code(problem.status)
      .header("content-type", PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(problem));
  };
}

function installErrors(app: FastifyInstance, sendProblem: SendProblem): void {
  app.setErrorHandler(sendProblem);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?", 1)[0] ?? "/";
    const allowed = METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
    if (allowed.length === 0)
      throw new SwitchyardError("route_not_found", `no route ${request.method} ${path}`);
    reply.header("allow", allowed.join(", "));
    throw new SwitchyardError(
      "method_not_allowed",
      `${request.method} is not allowed on ${path}; use ${allowed.join(", ")}`,
    );
  });
}

/** One hook of each kind for the server's own per-request work: each hook run costs. */
function installHooks(
  app: FastifyInstance,
  http: HttpMetrics,
  clientErrors: ClientErrors,
  closing: () => boolean,
): void {
  app.addHook("onRequest", (request, reply, done) => {
    clientErrors.started(request.raw, reply.raw);
    http.requestsSeen++;
    if (!closing()) return done();
    reply.header("connection", "close");
    done(new SwitchyardError("shutting_down", "the router is shutting down"));
  });
  app.addHook("onResponse", (request, reply, done) => {
    clientErrors.ended(request.raw);
    http.observe(
      request.method,
      request.routeOptions.url ?? "unmatched",
      reply.statusCode,
      reply.elapsedTime,
    );
    done();
  });
}

/**
 * Once closing, upgrade requests are answered 503 on the raw socket and the socket ended.
 * Answered through Fastify instead, an upgrade socket is detached from the HTTP server, so
 * nothing would ever close it, and a client that keeps reconnecting would hold close() open.
 */
function refuseUpgrades(app: FastifyInstance): void {
  app.server.removeAllListeners("upgrade");
  app.server.on("upgrade", (_request, socket: Duplex) =>
    answerOnSocket(socket, new SwitchyardError("shutting_down", "the router is shutting down")),
  );
}

/**
 * Waits until no request has arrived for `quietMs` (at most `maxMs`). Requests already sent on
 * open keep-alive connections are then answered 503 `shutting_down` with `Connection: close`,
 * instead of meeting a reset when the server closes idle connections.
 */
async function drained(http: HttpMetrics, quietMs = 30, maxMs = 1_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let seen = -1;
  while (seen !== http.requestsSeen && Date.now() < deadline) {
    seen = http.requestsSeen;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}

/** How often Node checks the headers timeout: a fraction of it, so it is kept within ~25%. */
function checkingIntervalMs(headersTimeoutMs: number): number {
  return headersTimeoutMs === 0 ? 30_000 : Math.max(50, Math.min(1_000, headersTimeoutMs / 4));
}

/**
 * The Node server, made here rather than by Fastify: its `https` option would drop the
 * `http` timeouts, so both kinds get the same ones from one place.
 */
function nodeServer(options: ServerOptions, headersTimeoutMs: number) {
  const timeouts: NodeServerOptions = {
    headersTimeout: headersTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs(headersTimeoutMs),
    // Bounds receiving the whole request; long polls wait after that, so they are not cut.
    requestTimeout: 0,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? LIMITS.keepAliveTimeoutMs,
  };
  const tls = options.tls;
  return (handler: RequestListener) =>
    tls === undefined
      ? createHttpServer(timeouts, handler)
      : createHttpsServer({ ...timeouts, cert: tls.cert, key: tls.key }, handler);
}

/** Typed as Fastify's base logger, so the app keeps Fastify's default logger generics. */
function baseLogger(options: ServerOptions): FastifyBaseLogger {
  return options.logger ?? createRouterLogger(options.logLevel);
}

export async function createServer(options: ServerOptions): Promise<HttpServer> {
  const maxBodyBytes = options.maxBodyBytes ?? LIMITS.maxBodyBytes;
  const headersTimeoutMs = options.headersTimeoutMs ?? LIMITS.headersTimeoutMs;
  const lingering = new Lingering({ maxBytes: 4 * maxBodyBytes, ...LINGER_DEFAULTS });
  const metrics = options.metrics ?? new RouterMetrics();
  metrics.bind(options.broker);
  const sendProblem = problemSender(lingering, metrics);
  const clientErrors = new ClientErrors();
  const app = Fastify({
    // Request headers are never logged; should a request object reach a log line anyway,
    // its credentials are redacted (see logger.ts).
    loggerInstance: baseLogger(options),
    // Per-request log lines cost throughput; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBodyBytes,
    return503OnClosing: false,
    exposeHeadRoutes: false,
    // Longer than any valid name, so a too-long name meets our own validation.
    routerOptions: { maxParamLength: 1024 },
    frameworkErrors: sendProblem,
    clientErrorHandler: clientErrors.handler,
    serverFactory: nodeServer(options, headersTimeoutMs),
  });
  const routes: RouteInfo[] = [];
  const auth = options.auth ?? false;
  const keyStore = options.keys;
  // Per node: each router holds its own buckets (API.md, "Access control").
  const rateLimits = auth ? new RateLimiter({ isLive: (id) => keyStore.isValid(id) }) : undefined;
  const sessions =
    auth && options.sessions !== undefined
      ? { store: options.sessions, tls: options.tls !== undefined }
      : undefined;
  declareScopes(
    app,
    rateLimits
      ? {
          keys: keyStore,
          broker: options.broker,
          rateLimits,
          ...(sessions === undefined ? {} : { sessions }),
        }
      : undefined,
  );
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  const shutdown = new AbortController();
  const hub = new StreamHub();
  const http = metrics.http;
  installParsers(app, maxBodyBytes, options.bodyIdleTimeoutMs ?? LIMITS.bodyIdleTimeoutMs);
  installErrors(app, sendProblem);
  ignoreUnknownExpectations(app);
  installHooks(app, http, clientErrors, () => shutdown.signal.aborted);
  await app.register(websocket, {
    options: { maxPayload: maxBodyBytes },
    preClose: (done) => done(), // streams are closed with 1001 by close() below
  });
  // After the WebSocket plugin's own onRequest hook: an upgrade refused here must still be
  // marked as one, or its socket, detached from the HTTP server, would never be destroyed.
  installRequestGuards(
    app,
    options.guards ?? { withoutAuth: true, loopbackBind: true, tls: options.tls !== undefined },
  );
  const context: RouteContext = {
    app,
    broker: options.broker,
    shutdown: shutdown.signal,
    http,
    metrics,
    maxBodyBytes,
    keys: options.keys,
    auth,
    rateLimits,
  };
  for (const register of [
    topicRoutes,
    eventRoutes,
    subscriptionRoutes,
    deliveryRoutes,
    pushRoutes,
    opsRoutes,
    keyRoutes,
    schemaRoutes,
    schemaInferRoutes,
    asyncApiRoutes,
    flowRoutes,
    scheduledRoutes,
  ])
    register(context);
  uiSessionRoutes(context, sessions);
  dashboardRoutes(context);
  streamRoute(context, hub);
  await app.ready();
  const ended = credentialCheck(options.keys, sessions?.store);
  const sweep = auth ? setInterval(() => hub.closeWhere(ended), STREAM_KEY_SWEEP_MS) : undefined;
  sweep?.unref();

  let closed: Promise<void> | undefined;
  return {
    routes,
    async listen(host, port) {
      await app.listen({ host, port });
      const address = app.server.address();
      const bound = typeof address === "object" && address !== null ? address.port : port;
      // Before any request is read: the publish path stamps `dataschema` from this URL
      // (unless the router's `publicUrl` is set).
      options.broker.listening(listenUrl(host, bound, options.tls !== undefined));
      return bound;
    },
    close() {
      closed ??= (async () => {
        shutdown.abort();
        clearInterval(sweep);
        refuseUpgrades(app);
        await hub.closeAll(1001);
        await drained(http);
        lingering.destroyAll();
        await app.close();
      })();
      return closed;
    },
  };
}
