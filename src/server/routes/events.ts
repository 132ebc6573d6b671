import { SwitchyardError } from "../../core/errors.js";
import { SUBJECT_MAX_BYTES } from "../../engine/engine.js";
import { mayManage } from "../auth/visible.js";
import { headerPointers } from "../binary-mode.js";
import { type Params, type RouteContext, sendJson } from "../context.js";
import { parsePublishRequest } from "../publish-request.js";
import { parseExpectedVersion, parseReadQuery, parseSubjectQuery } from "../read-query.js";
import { eventsPageJson, publishJson, subjectPageJson } from "../render.js";

type EventsRequest = { Params: Params<"topic">; Querystring: Record<string, unknown> };
type SubjectRequest = {
  Params: Params<"topic" | "subject">;
  Querystring: Record<string, unknown>;
};

export function eventRoutes({ app, broker, rateLimits, metrics }: RouteContext): void {
  const publish = { config: { ownBodyTypes: true } } as const;
  app.post<EventsRequest>("/v1/topics/:topic/events", publish, async (request, reply) => {
    const body = request.body as Buffer | string | undefined;
    const expectedVersion = parseExpectedVersion(request.query);
    const { mode, events } = parsePublishRequest(request.headers, body);
    const topic = request.params.topic;
    // Charged once the count is known, before anything is written.
    const principal = request.principal;
    if (rateLimits !== undefined && principal !== null && principal.record.rateLimit !== null)
      rateLimits.admitEvents(principal.record, events.length);
    try {
      // Publishing creates an unknown topic only for a key that may manage it.
      // The plain headers are the transport's context; the event's own is `ce-traceparent`.
      const { traceparent, tracestate } = request.headers;
      const transport =
        typeof traceparent === "string"
          ? { traceparent, tracestate: typeof tracestate === "string" ? tracestate : undefined }
          : undefined;
      const result = await broker.publish(
        topic,
        events,
        mode === "batch",
        (name) => mayManage(principal, name),
        transport,
        expectedVersion === undefined ? {} : { expectedVersion },
      );
      // Received → durable: Fastify's clock started when the request arrived.
      metrics.publishLatency(topic).observe(reply.elapsedTime / 1000);
      return sendJson(reply, result.partial ? 207 : 201, publishJson(result));
    } catch (error) {
      // Binary-mode attributes came from headers: point there, not into a body that has none.
      if (
        mode === "binary" &&
        error instanceof SwitchyardError &&
        error.errors.some((e) => e.pointer.startsWith("/"))
      )
        throw headerPointers(error);
      throw error;
    }
  });

  app.get<EventsRequest>("/v1/topics/:topic/events", async (request, reply) => {
    const { from, limit } = parseReadQuery(request.query);
    const page = await broker.read(request.params.topic, from, limit);
    return sendJson(reply, 200, eventsPageJson(page));
  });

  // API.md "Event streams per subject"; Fastify has percent-decoded the subject already.
  app.get<SubjectRequest>("/v1/topics/:topic/subjects/:subject/events", async (request, reply) => {
    const { fromVersion, limit } = parseSubjectQuery(request.query);
    const subject = request.params.subject;
    if (Buffer.byteLength(subject) > SUBJECT_MAX_BYTES)
      throw new SwitchyardError(
        "invalid_request",
        `subject is longer than ${SUBJECT_MAX_BYTES} bytes`,
        {
          errors: [{ pointer: "path:subject", message: `at most ${SUBJECT_MAX_BYTES} bytes` }],
        },
      );
    const page = await broker.readSubject(request.params.topic, subject, fromVersion, limit);
    return sendJson(reply, 200, subjectPageJson(page));
  });
}
