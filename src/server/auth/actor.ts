import type { FastifyRequest } from "fastify";
import type { Actor } from "../../broker/broker.js";

/** The request's key as the audit trail records it: `{ id, name }`, null without auth. */
export function actorOf(request: FastifyRequest): Actor {
  const principal = request.principal;
  return principal === null ? null : { id: principal.record.id, name: principal.record.name };
}
