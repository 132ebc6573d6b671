import { type Params, type RouteContext, sendJson } from "../context.js";
import { parseJsonBody } from "../json-body.js";

type NameRequest = { Params: Params<"name"> };

/** Push delivery controls: pause, resume and the attempt log. */
export function pushRoutes({ app, broker }: RouteContext): void {
  app.post<NameRequest>("/v1/subscriptions/:name/pause", async (request, reply) => {
    const view = await broker.pause(request.params.name, parseJsonBody(request.body));
    return sendJson(reply, 200, JSON.stringify(view));
  });

  app.post<NameRequest>("/v1/subscriptions/:name/resume", async (request, reply) => {
    return sendJson(reply, 200, JSON.stringify(await broker.resume(request.params.name)));
  });

  app.get<NameRequest>("/v1/subscriptions/:name/attempts", async (request, reply) => {
    const attempts = await broker.attempts(request.params.name, request.query);
    return sendJson(reply, 200, JSON.stringify({ attempts }));
  });
}
