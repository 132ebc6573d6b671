import type { FastifyRequest } from "fastify";
import type { Broker } from "../../broker/broker.js";
import type { Principal } from "../../broker/keys.js";
import { isRouterTopicName } from "../../core/names.js";
import { type AsyncApiInput, type AsyncApiSchema, asyncApiDocument } from "../asyncapi.js";
import { SUBSCRIPTION_VIEWERS, TOPIC_VIEWERS, visible } from "../auth/visible.js";
import { type RouteContext, sendJson } from "../context.js";
import { VERSION } from "../version.js";

/** The latest schema of every registered type (schemas are readable by any key). */
function latestSchemas(broker: Broker): Map<string, AsyncApiSchema> {
  const registry = broker.schemas;
  return new Map(
    registry
      .list()
      .map((s) => [s.type, { version: s.latest, schema: registry.get(s.type).schema }]),
  );
}

/** What `principal` may see: the topics it may read, publish to or manage, and their subscriptions. */
async function inputFor(
  broker: Broker,
  principal: Principal | null,
  url: URL,
  auth: boolean,
): Promise<AsyncApiInput> {
  const topics = visible(principal, await broker.listTopics(), TOPIC_VIEWERS);
  const subscriptions = visible(principal, await broker.listSubscriptions(), SUBSCRIPTION_VIEWERS);
  const types = await broker.recentEventTypes(topics.map((t) => t.name));
  return {
    version: VERSION,
    url,
    auth,
    topics: topics.map((t) => ({
      name: t.name,
      routerOwned: t.owner === "router" || isRouterTopicName(t.name),
      types: types.get(t.name) ?? [],
    })),
    subscriptions,
    schemas: latestSchemas(broker),
  };
}

/**
 * The URL the client reached the router on (what it can use again); the socket's own
 * address when the `Host` header is absent or names no host.
 */
function requestUrl(request: FastifyRequest): URL {
  const local = request.socket.localAddress ?? "127.0.0.1";
  const own = `${local.includes(":") ? `[${local}]` : local}:${request.socket.localPort}`;
  for (const host of [request.host, own]) {
    try {
      const url = new URL(`${request.protocol}://${host}/`);
      if (url.host !== "" && url.href === `${url.protocol}//${url.host}/`) return url;
    } catch {
      // not a host: try the next
    }
  }
  return new URL(`${request.protocol}://127.0.0.1/`);
}

/** `GET /v1/asyncapi.json` (any key): the AsyncAPI 3.0 document of what the key may see. */
export function asyncApiRoutes({ app, broker, auth }: RouteContext): void {
  app.get("/v1/asyncapi.json", async (request, reply) => {
    // The operator's publicUrl names the router behind a proxy; the request's own URL otherwise.
    const publicUrl = broker.publicUrl;
    const url = publicUrl === undefined ? requestUrl(request) : new URL(publicUrl);
    const input = await inputFor(broker, request.principal, url, auth);
    return sendJson(reply, 200, JSON.stringify(asyncApiDocument(input)));
  });
}
