import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from "fastify";
import type { Broker } from "../../broker/broker.js";
import { type KeyStore, type Principal, Unauthenticated } from "../../broker/keys.js";
import { describeNeed } from "../../broker/scopes.js";
import { SwitchyardError } from "../../core/errors.js";
import type { RateLimiter } from "./rate-limit.js";
import { type Needs, ruleOf, type ScopeRule } from "./route-scopes.js";
import { cookiePrincipal, type SessionAuth } from "./session-auth.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated key; null without auth, or on an open route called without one. */
    principal: Principal | null;
  }
}

/** What checks credentials and scopes; absent when the router runs without auth. */
export interface AuthOptions {
  readonly keys: KeyStore;
  readonly broker: Broker;
  readonly rateLimits: RateLimiter;
  /** Dashboard sessions: their cookie authenticates a request that has no Authorization. */
  readonly sessions?: SessionAuth;
}

type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/** 403 naming the first requirement the key misses, or undefined when it holds them all. */
function refusal(request: FastifyRequest, principal: Principal, needs: Needs): Error | undefined {
  for (const alternatives of needs)
    if (!alternatives.some((need) => principal.grants.allows(need)))
      return new SwitchyardError(
        "forbidden",
        `the key ${principal.record.id} lacks the scope for ${request.method} ${request.url.split("?", 1)[0]}; it needs ${alternatives.map(describeNeed).join(" or ")}`,
      );
  return undefined;
}

/** Checks a rule's needs against the request's key (scope before existence: before the handler). */
function authorize(
  rule: ScopeRule,
  broker: Broker,
  request: FastifyRequest,
  done: HookHandlerDoneFunction,
): void {
  const principal = request.principal;
  if (rule.type !== "needs" || principal === null || principal.grants.admin) {
    done();
    return;
  }
  const needs = rule.needs({
    params: request.params as Record<string, string>,
    query: request.query,
    body: request.body,
    broker,
  });
  if (needs instanceof Promise) needs.then((list) => done(refusal(request, principal, list)), done);
  else done(refusal(request, principal, needs));
}

/**
 * Authentication in the route's `onRequest` (WebSocket upgrades included; after the app's
 * own hooks, so an upgrade refused here is still handled as one). Authorization runs there
 * too, before the body is read, unless the rule looks at the body (`phase: "body"`): then
 * in `preHandler`, ahead of the route's own (a stream's existence check).
 */
function routeHooks(
  rule: ScopeRule,
  { keys, broker, rateLimits, sessions }: AuthOptions,
): { onRequest?: Hook; preHandler?: Hook } {
  if (rule.type === "open") return {};
  const atBody = rule.type === "needs" && rule.phase === "body";
  const admit = (request: FastifyRequest, principal: Principal, done: HookHandlerDoneFunction) => {
    request.principal = principal;
    // Every authenticated request counts, a WebSocket upgrade once (API.md).
    if (principal.record.rateLimit !== null) rateLimits.admitRequest(principal.record);
    if (atBody) return done();
    authorize(rule, broker, request, done);
  };
  const onRequest: Hook = (request, _reply, done) => {
    try {
      const header = request.headers.authorization;
      const viaCookie = viaSession(request, rule, header, sessions);
      if (viaCookie !== undefined) {
        viaCookie.then((principal) => {
          try {
            admit(request, principal, done);
          } catch (error) {
            done(error as Error);
          }
        }, done);
        return;
      }
      if (rule.type === "optional" && header === undefined) return done();
      admit(request, keys.authenticate(header), done);
    } catch (error) {
      if (error instanceof Unauthenticated)
        broker.audit.refused({
          reason: error.reason,
          keyId: error.keyId,
          route: `${request.method} ${request.routeOptions.url ?? ""}`,
        });
      done(error as Error);
    }
  };
  if (!atBody) return { onRequest };
  const preHandler: Hook = (request, _reply, done) => {
    try {
      authorize(rule, broker, request, done);
    } catch (error) {
      done(error as Error);
    }
  };
  return { onRequest, preHandler };
}

/**
 * The session cookie's key for a request without Authorization (undefined: none sent, go
 * on with the Bearer path). A route that needs the session refuses any other credential.
 */
function viaSession(
  request: FastifyRequest,
  rule: ScopeRule,
  authorization: string | undefined,
  sessions: SessionAuth | undefined,
): Promise<Principal> | undefined {
  const cookie =
    authorization === undefined && sessions !== undefined
      ? cookiePrincipal(request, sessions, {
          csrfExempt: rule.type === "session" && request.method === "GET",
        })
      : undefined;
  if (cookie === undefined && rule.type === "session")
    throw new SwitchyardError(
      "unauthenticated",
      "this route needs a dashboard session: sign in with POST /ui/session",
    );
  return cookie;
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * Every route must declare its scope: a route missing from the table fails registration
 * (so the server cannot start), auth on or off. With auth, each route gets its checks as
 * route hooks, bound to its rule at registration: no per-request lookup.
 */
export function declareScopes(app: FastifyInstance, auth?: AuthOptions): void {
  app.decorateRequest("principal", null);
  app.decorateRequest("uiSession", null);
  app.addHook("onRoute", (route: RouteOptions) => {
    const [rule, ...others] = [route.method].flat().map((method) => ruleOf(method, route.url));
    if (rule === undefined || others.some((other) => other !== rule))
      throw new Error(`route ${route.url}: register one route per scope rule`);
    if (auth === undefined) return;
    const hooks = routeHooks(rule, auth);
    if (hooks.onRequest) route.onRequest = [...asList(route.onRequest), hooks.onRequest];
    if (hooks.preHandler) route.preHandler = [hooks.preHandler, ...asList(route.preHandler)];
  });
}
