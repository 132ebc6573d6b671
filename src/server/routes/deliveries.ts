import type { FastifyReply } from "fastify";
import type { SettleOp } from "../../broker/broker.js";
import { type Params, type RouteContext, sendJson } from "../context.js";
import { parseJsonBody } from "../json-body.js";
import { deliveriesJson, settledJson } from "../render.js";

type NameRequest = { Params: Params<"name"> };
type RedriveRequest = { Params: Params<"name" | "id"> };

const SETTLE_OPS: readonly SettleOp[] = ["ack", "nack", "extend", "reject"];

/** Aborts when the client goes away before the answer is written, or the server shuts down. */
function clientGone(
  reply: FastifyReply,
  shutdown: AbortSignal,
): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.once("close", onClose);
  const signal = AbortSignal.any([controller.signal, shutdown]);
  return { signal, done: () => reply.raw.off("close", onClose) };
}

export function deliveryRoutes({ app, broker, shutdown, http }: RouteContext): void {
  app.post<NameRequest>("/v1/subscriptions/:name/pull", async (request, reply) => {
    const watch = clientGone(reply, shutdown);
    http.pullsWaiting++;
    try {
      const deliveries = await broker.pull(
        request.params.name,
        parseJsonBody(request.body),
        watch.signal,
      );
      return sendJson(reply, 200, deliveriesJson(deliveries));
    } finally {
      http.pullsWaiting--;
      watch.done();
    }
  });

  for (const op of SETTLE_OPS)
    app.post<NameRequest>(`/v1/subscriptions/:name/${op}`, async (request, reply) => {
      const results = await broker.settle(request.params.name, op, parseJsonBody(request.body));
      return sendJson(reply, 200, settledJson(results));
    });

  app.post<NameRequest>("/v1/subscriptions/:name/seek", async (request, reply) => {
    const position = await broker.seek(request.params.name, parseJsonBody(request.body));
    return sendJson(reply, 200, JSON.stringify({ position }));
  });

  app.post<NameRequest>("/v1/subscriptions/:name/redrive", async (request, reply) => {
    const userAgent = request.headers["user-agent"];
    const started = await broker.redrive(request.params.name, parseJsonBody(request.body), {
      remoteAddress: request.ip,
      ...(userAgent === undefined ? {} : { userAgent }),
    });
    return sendJson(reply, started.redrive === null ? 200 : 202, JSON.stringify(started));
  });

  app.get<RedriveRequest>("/v1/subscriptions/:name/redrives/:id", async (request, reply) => {
    const job = await broker.getRedrive(request.params.name, request.params.id);
    const { state, matched, keys, moved } = job;
    const body = {
      redrive: job.id,
      state,
      matched,
      keys,
      moved,
      ...(job.error ? { error: job.error } : {}),
      actor: job.actor,
      startedAt: new Date(job.startedAt).toISOString(),
      ...(job.finishedAt === undefined
        ? {}
        : { finishedAt: new Date(job.finishedAt).toISOString() }),
    };
    return sendJson(reply, 200, JSON.stringify(body));
  });
}
