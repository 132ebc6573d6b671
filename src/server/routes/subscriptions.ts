import { actorOf } from "../auth/actor.js";
import { mayManage, SUBSCRIPTION_VIEWERS, visible } from "../auth/visible.js";
import { type Params, type RouteContext, sendJson } from "../context.js";
import { parseJsonBody } from "../json-body.js";

type SubscriptionRequest = { Params: Params<"name"> };

export function subscriptionRoutes({ app, broker }: RouteContext): void {
  app.put<SubscriptionRequest>("/v1/subscriptions/:name", async (request, reply) => {
    const body = parseJsonBody(request.body);
    // An unknown topic is created only for a key that may manage it (API.md), decided from
    // the key when the broker would create it: not from a check that ran before.
    const { created, subscription } = await broker.putSubscription(
      request.params.name,
      body,
      actorOf(request),
      (topic) => mayManage(request.principal, topic),
    );
    return sendJson(reply, created ? 201 : 200, JSON.stringify(subscription));
  });

  app.get("/v1/subscriptions", async (request, reply) => {
    const all = await broker.listSubscriptions();
    const subscriptions = visible(request.principal, all, SUBSCRIPTION_VIEWERS);
    return sendJson(reply, 200, JSON.stringify({ subscriptions }));
  });

  app.get<SubscriptionRequest>("/v1/subscriptions/:name", async (request, reply) => {
    return sendJson(reply, 200, JSON.stringify(await broker.getSubscription(request.params.name)));
  });

  app.delete<SubscriptionRequest>("/v1/subscriptions/:name", async (request, reply) => {
    await broker.deleteSubscription(request.params.name, actorOf(request));
    return reply.code(204).send();
  });
}
