import { type Params, type RouteContext, sendJson } from "../context.js";
import { parseJsonBody } from "../json-body.js";

type TypeRequest = { Params: Params<"type"> };

/** `POST /v1/schemas/{type}/infer`: a schema proposal from stored events; nothing registered. */
export function schemaInferRoutes({ app, broker }: RouteContext): void {
  app.post<TypeRequest>("/v1/schemas/:type/infer", async (request, reply) => {
    const found = await broker.inferSchema(request.params.type, parseJsonBody(request.body));
    return sendJson(reply, 200, JSON.stringify(found));
  });
}
