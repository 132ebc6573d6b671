import type { FastifyBaseLogger, FastifyReply } from "fastify";
import type { SettleOp } from "../../broker/broker.js";
import { eventIds, levelEnabled } from "../../broker/log.js";
import type { Delivery, Settled } from "../../engine/engine.js";
import { actorOf } from "../auth/actor.js";
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
): { signal: AbortSignal; gone(): boolean; done(): void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.once("close", onClose);
  const signal = AbortSignal.any([controller.signal, shutdown]);
  const gone = () =>
    controller.signal.aborted || reply.raw.destroyed || reply.raw.socket?.writable !== true;
  return { signal, gone, done: () => reply.raw.off("close", onClose) };
}

/**
 * An attempt is a delivery whose response finished writing to an open connection: leases
 * for a client that left while they were taken, or whose response never finished, go back.
 */
function releaseUnwritten(reply: FastifyReply, gone: boolean, release: () => Promise<void>): void {
  if (gone) {
    void release();
    return;
  }
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) void release();
  });
}

/** Debug lines, one per delivery a pull hands out; the request's logger adds `reqId`. */
function logLeased(
  log: FastifyBaseLogger,
  subscription: string,
  leased: readonly Delivery[],
): void {
  if (!levelEnabled(log.level, "debug")) return;
  for (const delivery of leased) {
    const { eventId, correlationId } = eventIds(delivery.record.body);
    log.debug(
      {
        subscription,
        topic: delivery.record.topic,
        offset: delivery.record.offset,
        eventId,
        correlationId,
        attempt: delivery.attempt,
      },
      "pull delivered",
    );
  }
}

/** Rejects (dead letters) at info, the rest at debug; ackIds name deliveries, not secrets. */
function logSettled(
  log: FastifyBaseLogger,
  subscription: string,
  op: SettleOp,
  results: readonly Settled[],
): void {
  const level = op === "reject" ? "info" : "debug";
  if (!levelEnabled(log.level, level)) return;
  for (const { ackId, status } of results)
    log[level]({ subscription, ackId, op, status }, `pull ${op}`);
}

export function deliveryRoutes({ app, broker, shutdown, http }: RouteContext): void {
  app.post<NameRequest>("/v1/subscriptions/:name/pull", async (request, reply) => {
    const name = request.params.name;
    const watch = clientGone(reply, shutdown);
    http.pullsWaiting++;
    let deliveries: Awaited<ReturnType<typeof broker.pull>>;
    try {
      deliveries = await broker.pull(name, parseJsonBody(request.body), watch.signal);
    } finally {
      http.pullsWaiting--;
      watch.done();
    }
    if (deliveries.length > 0) {
      const leased = deliveries;
      const gone = watch.gone();
      releaseUnwritten(reply, gone, () => broker.release(name, leased));
      if (gone) deliveries = [];
      else logLeased(request.log, name, leased);
    }
    return sendJson(reply, 200, deliveriesJson(deliveries));
  });

  for (const op of SETTLE_OPS)
    app.post<NameRequest>(`/v1/subscriptions/:name/${op}`, async (request, reply) => {
      const results = await broker.settle(request.params.name, op, parseJsonBody(request.body));
      logSettled(request.log, request.params.name, op, results);
      return sendJson(reply, 200, settledJson(results));
    });

  app.post<NameRequest>("/v1/subscriptions/:name/seek", async (request, reply) => {
    const position = await broker.seek(
      request.params.name,
      parseJsonBody(request.body),
      actorOf(request),
    );
    return sendJson(reply, 200, JSON.stringify({ position }));
  });

  app.post<NameRequest>("/v1/subscriptions/:name/redrive", async (request, reply) => {
    const userAgent = request.headers["user-agent"];
    const started = await broker.redrive(request.params.name, parseJsonBody(request.body), {
      remoteAddress: request.ip,
      key: actorOf(request),
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
