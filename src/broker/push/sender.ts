import type { LookupFunction } from "node:net";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import type { VettedEndpoint } from "./endpoint-guard.js";
import { postOnce, RequestTimeout } from "./post-once.js";

/**
 * The only file that speaks undici. One keep-alive pool per (origin, vetted address): the
 * pool's sockets are opened to the address the guard checked, while the Host header, TLS SNI
 * and certificate check use the endpoint's host name. Redirects are never followed (undici's
 * `request` does not follow them), and response bodies are read up to a cap.
 */

export interface PushRequest {
  readonly endpoint: VettedEndpoint;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
  /** The whole request: connect, send, response headers and the capped body. */
  readonly timeoutMs: number;
  /** Aborts the request (the router is stopping): the outcome is an `aborted` error. */
  readonly signal?: AbortSignal;
}

export type PushOutcome =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly retryAfter: string | null;
      /** The first `maxResponseBytes` of the body, decoded as UTF-8. */
      readonly body: string;
      readonly latencyMs: number;
    }
  | {
      readonly kind: "error";
      /** `refused`: the endpoint guard refused the endpoint; nothing was sent. */
      readonly error: "timeout" | "connection" | "refused" | "aborted";
      readonly message: string;
      readonly latencyMs: number;
    };

/** Sends one push request. Never rejects: every failure is an outcome. */
export interface PushSender {
  send(request: PushRequest): Promise<PushOutcome>;
  /** Closes every pool, waiting for requests in flight. Idempotent. */
  close(): Promise<void>;
}

export interface SenderOptions {
  readonly connectTimeoutMs?: number;
  /** Response bytes kept for the attempt log. */
  readonly maxResponseBytes?: number;
  /** Bytes of a larger response read (and dropped) before the connection is cut instead. */
  readonly maxDrainBytes?: number;
  readonly connectionsPerEndpoint?: number;
  readonly keepAliveTimeoutMs?: number;
  /** Pools kept open at once; the least recently used one is closed beyond this. */
  readonly maxPools?: number;
  /** Extra trusted CA certificates (PEM), e.g. for tests with a self-signed sink. */
  readonly ca?: string | readonly string[];
}

export const SENDER_DEFAULTS = {
  connectTimeoutMs: 5_000,
  maxResponseBytes: 4_096,
  maxDrainBytes: 65_536,
  connectionsPerEndpoint: 256,
  keepAliveTimeoutMs: 30_000,
  maxPools: 1_024,
};

function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

function errorOutcome(
  error: unknown,
  started: number,
  timedOut: boolean,
  stopped: boolean,
): PushOutcome {
  const latencyMs = Math.round(performance.now() - started);
  if (stopped)
    return { kind: "error", error: "aborted", message: "the router is stopping", latencyMs };
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const timeout =
    timedOut ||
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT";
  if (timeout) return { kind: "error", error: "timeout", message: timeoutMessage(code), latencyMs };
  const detail =
    typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
  return { kind: "error", error: "connection", message: detail, latencyMs };
}

function timeoutMessage(code: unknown): string {
  return code === "UND_ERR_CONNECT_TIMEOUT" ? "connect timeout" : "request timeout";
}

export function createPushSender(options: SenderOptions = {}): PushSender {
  const settings = { ...SENDER_DEFAULTS, ...options };
  const pools = new Map<string, Pool>();
  let closed = false;

  function poolFor(endpoint: VettedEndpoint): Pool {
    const key = `${endpoint.url.origin}|${endpoint.address}`;
    const found = pools.get(key);
    if (found !== undefined) {
      pools.delete(key); // re-insert: the Map's order is least recently used first
      pools.set(key, found);
      return found;
    }
    const pool = new Pool(endpoint.url.origin, {
      connections: settings.connectionsPerEndpoint,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      connect: {
        timeout: settings.connectTimeoutMs,
        lookup: pinnedLookup(endpoint.address, endpoint.family),
        ...(settings.ca === undefined ? {} : { ca: settings.ca as string | string[] }),
      },
    });
    pools.set(key, pool);
    for (const [oldKey, old] of pools) {
      if (pools.size <= settings.maxPools) break;
      pools.delete(oldKey);
      void old.close().catch(() => undefined);
    }
    return pool;
  }

  async function send(request: PushRequest): Promise<PushOutcome> {
    const started = performance.now();
    try {
      if (closed) throw new Error("sender closed");
      const { url } = request.endpoint;
      const answer = await postOnce(poolFor(request.endpoint), {
        path: url.pathname + url.search,
        headers: request.headers,
        body: request.body,
        timeoutMs: request.timeoutMs,
        keepBytes: settings.maxResponseBytes,
        drainBytes: settings.maxDrainBytes,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      });
      return { kind: "response", ...answer, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      const stopped = request.signal?.aborted === true;
      return errorOutcome(error, started, error instanceof RequestTimeout, stopped);
    }
  }

  async function close(): Promise<void> {
    closed = true;
    const all = [...pools.values()];
    pools.clear();
    await Promise.all(all.map((pool) => pool.close().catch(() => undefined)));
  }

  return { send, close };
}
