import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Broker } from "../../broker/broker.js";
import type { KeyStore, Principal } from "../../broker/keys.js";
import { describeNeed } from "../../broker/scopes.js";
import { SwitchyardError } from "../../core/errors.js";
import { type Needs, ruleOf, type ScopeRule } from "./route-scopes.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated key; null without auth, or on an open route called without one. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The route's rule from ROUTE_SCOPES, attached at registration. */
    readonly scopeRule?: ScopeRule;
  }
}

const UNMATCHED: ScopeRule = { type: "key", label: "any key" };

/**
 * Every route must declare its scope: a route missing from the table fails registration
 * (so the server cannot start), auth on or off.
 */
export function requireDeclaredScopes(app: FastifyInstance): void {
  app.decorateRequest("principal", null);
  app.addHook("onRoute", (route) => {
    const [first, ...others] = [route.method].flat().map((method) => ruleOf(method, route.url));
    if (first === undefined || others.some((rule) => rule !== first))
      throw new Error(`route ${route.url}: register one route per scope rule`);
    // Looked up once here, not per request.
    route.config = { ...route.config, scopeRule: first };
  });
}

function ruleFor(request: FastifyRequest): ScopeRule {
  return request.routeOptions.config.scopeRule ?? UNMATCHED;
}

/** 403 naming the first requirement the key misses, or undefined when it holds them all. */
function refusal(request: FastifyRequest, principal: Principal, needs: Needs): Error | undefined {
  for (const alternatives of needs)
    if (!alternatives.some((need) => principal.grants.allows(need)))
      return new SwitchyardError(
        "forbidden",
        `the key ${principal.record.id} lacks the scope for ${request.method} ${request.routeOptions.url}; it needs ${alternatives.map(describeNeed).join(" or ")}`,
      );
  return undefined;
}

/**
 * Authentication in `onRequest` (every request, WebSocket upgrades included), authorization
 * in `preHandler` (after the body is read, since a subscription's topic is in its body) and
 * before the handler, so scope is checked before existence.
 */
export function installAuth(app: FastifyInstance, keys: KeyStore, broker: Broker): void {
  app.addHook("onRequest", (request, _reply, done) => {
    try {
      const rule = ruleFor(request);
      const header = request.headers.authorization;
      if (rule.type === "open" || (rule.type === "optional" && header === undefined)) return done();
      request.principal = keys.authenticate(header);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
  // Callback style: most rules are synchronous, and the per-request path stays without a promise.
  app.addHook("preHandler", (request, _reply, done) => {
    const rule = ruleFor(request);
    const principal = request.principal;
    if (rule.type !== "needs" || principal === null || principal.grants.admin) return done();
    try {
      const needs = rule.needs({
        params: request.params as Record<string, string>,
        query: request.query,
        body: request.body,
        broker,
      });
      if (needs instanceof Promise)
        needs.then((list) => done(refusal(request, principal, list)), done);
      else done(refusal(request, principal, needs));
    } catch (error) {
      done(error as Error);
    }
  });
}
