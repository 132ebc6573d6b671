import { actorOf } from "../auth/actor.js";
import { TOPIC_VIEWERS, visible } from "../auth/visible.js";
import { type Params, type RouteContext, sendJson } from "../context.js";
import { parseJsonBody } from "../json-body.js";
import { parseForce } from "../read-query.js";

type TopicRequest = { Params: Params<"topic">; Querystring: Record<string, unknown> };

export function topicRoutes({ app, broker }: RouteContext): void {
  app.put<TopicRequest>("/v1/topics/:topic", async (request, reply) => {
    const { created, topic } = await broker.putTopic(
      request.params.topic,
      parseJsonBody(request.body),
      actorOf(request),
    );
    return sendJson(reply, created ? 201 : 200, JSON.stringify(topic));
  });

  app.get("/v1/topics", async (request, reply) => {
    const topics = visible(request.principal, await broker.listTopics(), TOPIC_VIEWERS);
    return sendJson(reply, 200, JSON.stringify({ topics }));
  });

  app.get<TopicRequest>("/v1/topics/:topic", async (request, reply) => {
    return sendJson(reply, 200, JSON.stringify(await broker.getTopic(request.params.topic)));
  });

  app.delete<TopicRequest>("/v1/topics/:topic", async (request, reply) => {
    const force = parseForce(request.query);
    await broker.deleteTopic(request.params.topic, force, actorOf(request));
    return reply.code(204).send();
  });
}
