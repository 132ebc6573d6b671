import type { FastifyReply, FastifyRequest } from "fastify";
import type { KeyStore, Principal } from "../../broker/keys.js";
import type { Session } from "../../broker/sessions.js";
import { SwitchyardError } from "../../core/errors.js";
import { cookieName, ownOrigin, type SessionAuth } from "../auth/session-auth.js";
import { type RouteContext, sendJson } from "../context.js";
import { parseJsonBody } from "../json-body.js";

/** The only answers that carry the CSRF token; never the session id (that is in the cookie). */
function sessionAnswer(session: Session, principal: Principal): string {
  const { id, name, scopes } = principal.record;
  return JSON.stringify({
    csrf: session.csrf,
    expiresAt: new Date(session.expiresAt).toISOString(),
    key: { id, name, scopes },
  });
}

function setCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  tls: boolean,
  value: string,
  maxAgeS: number,
): void {
  const attributes = [`Max-Age=${maxAgeS}`, "Path=/", "HttpOnly", "SameSite=Strict"];
  if (tls) attributes.push("Secure");
  reply.header("set-cookie", `${cookieName(request, tls)}=${value}; ${attributes.join("; ")}`);
}

function keyOf(body: unknown): string {
  const input = parseJsonBody(body);
  const key =
    typeof input === "object" && input !== null && !Array.isArray(input)
      ? (input as Record<string, unknown>).key
      : undefined;
  if (typeof key !== "string")
    throw new SwitchyardError("invalid_request", 'send { "key": "sy_…" }', {
      errors: [{ pointer: "/key", message: "must be a string" }],
    });
  return key;
}

/**
 * `/ui/session`: the dashboard signs in with a key once and then uses an HttpOnly cookie,
 * so the key never sits in the page's storage. Without auth there is nothing to sign in
 * to: 409 `conflict` (the route exists, the router's state refuses it).
 */
export function uiSessionRoutes(
  { app, keys }: RouteContext & { keys: KeyStore },
  sessions: SessionAuth | undefined,
): void {
  app.post("/ui/session", async (request, reply) => {
    if (sessions === undefined)
      throw new SwitchyardError(
        "conflict",
        "this router runs without auth: the dashboard needs no session here",
      );
    const origin = request.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== ownOrigin(request, sessions.tls))
      throw new SwitchyardError("csrf_failed", "sign in from the router's own origin");
    const principal = keys.authenticate(`Bearer ${keyOf(request.body)}`);
    const { id, session } = await sessions.store.create(principal);
    const maxAgeS = Math.max(1, Math.floor((session.expiresAt - Date.now()) / 1000));
    setCookie(request, reply, sessions.tls, id, maxAgeS);
    return sendJson(reply, 200, sessionAnswer(session, principal));
  });

  app.get("/ui/session", async (request, reply) => {
    const open = request.uiSession;
    if (open === null) throw new SwitchyardError("unauthenticated", "no dashboard session");
    return sendJson(reply, 200, sessionAnswer(open.session, open.principal));
  });

  app.delete("/ui/session", async (request, reply) => {
    const open = request.uiSession;
    if (open === null || sessions === undefined)
      throw new SwitchyardError("unauthenticated", "no dashboard session");
    await sessions.store.end(open.id);
    setCookie(request, reply, sessions.tls, "", 0);
    return reply.code(204).send();
  });
}
