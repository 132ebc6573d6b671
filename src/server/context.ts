import type { FastifyInstance, FastifyReply } from "fastify";
import type { Broker } from "../broker/broker.js";
import type { KeyStore } from "../broker/keys.js";
import type { RateLimiter } from "./auth/rate-limit.js";
import type { HttpMetrics } from "./http-metrics.js";
import type { RouterMetrics } from "./metrics.js";

export const JSON_TYPE = "application/json; charset=utf-8";

/** What route modules get: the broker, the server's shutdown signal, its metrics. */
export interface RouteContext {
  readonly app: FastifyInstance;
  readonly broker: Broker;
  /** Aborts when the server starts closing: long polls and streams end early. */
  readonly shutdown: AbortSignal;
  readonly http: HttpMetrics;
  /** The registry `/metrics` renders; routes observe publish latency into it. */
  readonly metrics: RouterMetrics;
  readonly maxBodyBytes: number;
  readonly keys: KeyStore;
  /** Requests carry a key (`request.principal`); lists filter by its scopes. */
  readonly auth: boolean;
  /** With auth, this node's per-key buckets: the publish route charges its events here. */
  readonly rateLimits: RateLimiter | undefined;
}

/** Sends an already-serialised JSON body (no schema serialisation on any path). */
export function sendJson(reply: FastifyReply, status: number, json: string): FastifyReply {
  return reply.code(status).header("content-type", JSON_TYPE).send(json);
}

export type Params<K extends string> = { readonly [P in K]: string };
