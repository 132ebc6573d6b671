/**
 * `GET /v1/flows/{correlationid}` (API.md "Observability"): one correlation id's events
 * across topics indexed by it, with the causation edges between them. The route needs any
 * key; events of topics the key may not read are left out and only counted, so a flow
 * never shows more than the key could read topic by topic.
 */
import { type FlowView, flowView } from "../../broker/flows.js";
import type { Principal } from "../../broker/keys.js";
import { failValidation } from "../../core/errors.js";
import { type Params, type RouteContext, sendJson } from "../context.js";

export const FLOW_LIMIT_DEFAULT = 1_000;
export const FLOW_LIMIT_MAX = 10_000;

type FlowRequest = { Params: Params<"correlationid">; Querystring: Record<string, unknown> };

function parseLimit(query: Record<string, unknown>): number {
  const value = query.limit;
  if (value === undefined) return FLOW_LIMIT_DEFAULT;
  const n = typeof value === "string" && /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (n >= 1 && n <= FLOW_LIMIT_MAX) return n;
  return failValidation([
    { pointer: "query:limit", message: `must be an integer between 1 and ${FLOW_LIMIT_MAX}` },
  ]);
}

function mayRead(principal: Principal | null): (topic: string) => boolean {
  if (principal === null || principal.grants.admin) return () => true;
  return (topic) => principal.grants.allows({ kind: "read", name: topic });
}

export function flowRoutes({ app, broker }: RouteContext): void {
  app.get<FlowRequest>("/v1/flows/:correlationid", async (request, reply) => {
    const limit = parseLimit(request.query);
    const page = await broker.flow(request.params.correlationid, limit);
    const view: FlowView = flowView(page, mayRead(request.principal));
    return sendJson(reply, 200, view.json);
  });
}
