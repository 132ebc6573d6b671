import { actorOf } from "../auth/actor.js";
import { type Params, type RouteContext, sendJson } from "../context.js";
import { parseJsonBody } from "../json-body.js";

type TypeRequest = { Params: Params<"type"> };
type VersionRequest = { Params: Params<"type" | "n"> };

/** `/v1/schemas`: the schema registry (API.md "Schemas"); `infer` lives with AsyncAPI. */
export function schemaRoutes({ app, broker }: RouteContext): void {
  const registry = broker.schemas;

  app.put<TypeRequest>("/v1/schemas/:type", async (request, reply) => {
    const { type, version, created } = await registry.register(
      request.params.type,
      parseJsonBody(request.body),
      actorOf(request),
    );
    return sendJson(reply, created ? 201 : 200, JSON.stringify({ type, version }));
  });

  app.get("/v1/schemas", async (_request, reply) => {
    return sendJson(reply, 200, JSON.stringify({ schemas: registry.list() }));
  });

  app.get<TypeRequest>("/v1/schemas/:type", async (request, reply) => {
    return sendJson(reply, 200, JSON.stringify(registry.get(request.params.type)));
  });

  app.get<VersionRequest>("/v1/schemas/:type/versions/:n", async (request, reply) => {
    const { type, n } = request.params;
    return sendJson(reply, 200, JSON.stringify(registry.getVersion(type, n)));
  });

  app.post<TypeRequest>("/v1/schemas/:type/check", async (request, reply) => {
    const result = registry.check(request.params.type, parseJsonBody(request.body));
    return sendJson(reply, 200, JSON.stringify(result));
  });

  app.put<TypeRequest>("/v1/schemas/:type/config", async (request, reply) => {
    const config = await registry.configure(
      request.params.type,
      parseJsonBody(request.body),
      actorOf(request),
    );
    return sendJson(reply, 200, JSON.stringify(config));
  });
}
