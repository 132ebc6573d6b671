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
}

const UNMATCHED: ScopeRule = { type: "key", label: "any key" };

/**
 * Every route must declare its scope: a route missing from the table fails registration
 * (so the server cannot start), auth on or off.
 */
export function requireDeclaredScopes(app: FastifyInstance): void {
  app.decorateRequest("principal", null);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) ruleOf(method, route.url);
  });
}

function ruleFor(request: FastifyRequest): ScopeRule {
  const url = request.routeOptions.url;
  return url === undefined ? UNMATCHED : ruleOf(request.method, url);
}

function firstMissing(principal: Principal, needs: Needs): string | undefined {
  for (const alternatives of needs)
    if (!alternatives.some((need) => principal.grants.allows(need)))
      return alternatives.map(describeNeed).join(" or ");
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
  app.addHook("preHandler", async (request) => {
    const rule = ruleFor(request);
    const principal = request.principal;
    if (rule.type !== "needs" || principal === null || principal.grants.admin) return;
    const needs = await rule.needs({
      params: request.params as Record<string, string>,
      query: request.query,
      body: request.body,
      broker,
    });
    const missing = firstMissing(principal, needs);
    if (missing !== undefined)
      throw new SwitchyardError(
        "forbidden",
        `the key ${principal.record.id} lacks the scope for ${request.method} ${request.routeOptions.url}; it needs ${missing}`,
      );
  });
}
