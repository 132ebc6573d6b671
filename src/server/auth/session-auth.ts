import { hash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { Principal } from "../../broker/keys.js";
import type { OpenSession, SessionStore } from "../../broker/sessions.js";
import { SwitchyardError } from "../../core/errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The dashboard session and its id, when the request was authenticated by its cookie. */
    uiSession: (OpenSession & { readonly id: string }) | null;
  }
}

/** Dashboard sessions as a credential: the store and whether the router serves TLS. */
export interface SessionAuth {
  readonly store: SessionStore;
  readonly tls: boolean;
}

export const CSRF_HEADER = "x-switchyard-csrf";

/**
 * The cookie's name, per router: browsers scope cookies by host, not port, so two routers
 * on one host would otherwise overwrite each other's. The local port names the router;
 * under TLS the `__Host-` prefix makes the browser insist on `Secure`, `Path=/`, no Domain.
 */
export function cookieName(request: FastifyRequest, tls: boolean): string {
  const name = `switchyard_session_${request.raw.socket.localPort ?? 0}`;
  return tls ? `__Host-${name}` : name;
}

/** The router's own origin as a browser on it would send it: scheme and Host. */
export function ownOrigin(request: FastifyRequest, tls: boolean): string {
  return `${tls ? "https" : "http"}://${request.headers.host ?? ""}`.toLowerCase();
}

/** The session id the request's cookie header carries, or undefined. */
export function sessionCookie(request: FastifyRequest, tls: boolean): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  const name = cookieName(request, tls);
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=");
    if (at !== -1 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

/** Constant-time, over digests so unequal lengths compare too. */
const sameToken = (a: string, b: string) =>
  timingSafeEqual(hash("sha256", a, "buffer"), hash("sha256", b, "buffer"));

/**
 * The request comes from the router's own pages. Browsers omit `Origin` on same-origin GET
 * and HEAD requests (Fetch standard), so there `Sec-Fetch-Site: same-origin`, which they
 * send instead and a page cannot set, stands in for it. An upgrade always carries `Origin`.
 */
function sameOrigin(request: FastifyRequest, tls: boolean, upgrade: boolean): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) return origin.toLowerCase() === ownOrigin(request, tls);
  const readOnly = request.method === "GET" || request.method === "HEAD";
  return !upgrade && readOnly && request.headers["sec-fetch-site"] === "same-origin";
}

const csrfFailed = (why: string) => new SwitchyardError("csrf_failed", why);

/**
 * The key a session cookie authenticates, or undefined when the request carries none. A
 * cookie is an ambient credential a browser attaches for any page, so it counts only with
 * the router's own `Origin` and, on everything but a WebSocket upgrade (browsers cannot set
 * headers there) and `GET /ui/session` (which gives the token back after a page reload),
 * the session's CSRF token in `X-Switchyard-CSRF`.
 */
export function cookiePrincipal(
  request: FastifyRequest,
  auth: SessionAuth,
  options: { readonly csrfExempt: boolean },
): Promise<Principal> | undefined {
  const id = sessionCookie(request, auth.tls);
  if (id === undefined) return undefined;
  return (async () => {
    const open = await auth.store.find(id);
    if (open === undefined)
      throw new SwitchyardError(
        "unauthenticated",
        "the dashboard session has ended (signed out, expired, idle, or its key revoked); sign in again with POST /ui/session",
      );
    const upgrade = request.headers.upgrade?.toLowerCase() === "websocket";
    if (!sameOrigin(request, auth.tls, upgrade))
      throw csrfFailed(
        "a request authenticated by the session cookie must carry the router's own Origin",
      );
    if (!upgrade && !options.csrfExempt) {
      const presented = request.headers[CSRF_HEADER];
      if (typeof presented !== "string" || !sameToken(presented, open.session.csrf))
        throw csrfFailed(
          "a request authenticated by the session cookie must carry X-Switchyard-CSRF with the session's token",
        );
    }
    request.uiSession = { ...open, id };
    return open.principal;
  })();
}
