/**
 * `GET /v1/topics/{topic}/scheduled` and `DELETE /v1/topics/{topic}/scheduled/{id}`
 * (API.md "Scheduled events"): the topic's pending events, and cancelling one.
 */
import { LIMITS } from "../../core/config.js";
import { type FieldError, failValidation } from "../../core/errors.js";
import { type Params, type RouteContext, sendJson } from "../context.js";

type ListRequest = { Params: Params<"topic">; Querystring: Record<string, unknown> };
type CancelRequest = { Params: Params<"topic" | "id">; Querystring: Record<string, unknown> };

function once(query: Record<string, unknown>, name: string, errors: FieldError[]): string | null {
  const value = query[name];
  if (value === undefined) return null;
  if (typeof value === "string") return value;
  errors.push({ pointer: `query:${name}`, message: "must be given once" });
  return null;
}

function parseList(query: Record<string, unknown>): { limit: number; after: string | null } {
  const errors: FieldError[] = [];
  const rawLimit = once(query, "limit", errors);
  const after = once(query, "after", errors);
  let limit: number = LIMITS.readLimitDefault;
  if (rawLimit !== null) {
    const n = /^\d{1,6}$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
    if (n >= 1 && n <= LIMITS.readLimitMax) limit = n;
    else
      errors.push({
        pointer: "query:limit",
        message: `must be an integer between 1 and ${LIMITS.readLimitMax}`,
      });
  }
  if (after !== null && !/^[A-Za-z0-9_-]{1,2048}$/.test(after))
    errors.push({ pointer: "query:after", message: "must be the next token of a previous page" });
  if (errors.length > 0) failValidation(errors);
  return { limit, after };
}

export function scheduledRoutes({ app, broker }: RouteContext): void {
  app.get<ListRequest>("/v1/topics/:topic/scheduled", async (request, reply) => {
    const { limit, after } = parseList(request.query);
    const page = await broker.listScheduled(request.params.topic, limit, after);
    return sendJson(reply, 200, page.json);
  });

  app.delete<CancelRequest>("/v1/topics/:topic/scheduled/:id", async (request, reply) => {
    const errors: FieldError[] = [];
    const source = once(request.query, "source", errors);
    if (source === "") errors.push({ pointer: "query:source", message: "must not be empty" });
    if (errors.length > 0) failValidation(errors);
    await broker.cancelScheduled(request.params.topic, request.params.id, source);
    return reply.code(204).send();
  });
}
