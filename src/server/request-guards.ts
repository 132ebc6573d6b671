import type { FastifyInstance, FastifyRequest } from "fastify";
import { SwitchyardError } from "../core/errors.js";
import { hostOfHeader, isLoopbackName } from "../core/loopback.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route negotiates its own body types (publish: the three CloudEvents modes). */
    readonly ownBodyTypes?: true;
  }
}

export interface GuardOptions {
  /**
   * No access control: nothing but these checks stands between a web page and the router.
   * A DNS-rebinding page reaches us under its own name (Host), any other page under its own
   * origin (Origin); Bearer keys are not ambient credentials, so with auth neither applies.
   */
  readonly withoutAuth: boolean;
  /**
   * Only on a loopback bind are the legitimate names known (loopback ones). Off loopback
   * without auth (which the start-up rules are to forbid) the Host check would refuse every
   * name, so it is off there; the Origin check still holds.
   */
  readonly loopbackBind: boolean;
  readonly tls: boolean;
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return (
    (length !== undefined && length !== "0") || request.headers["transfer-encoding"] !== undefined
  );
}

function isJsonType(header: string | undefined): boolean {
  const media = (header ?? "").split(";", 1)[0]?.trim().toLowerCase();
  return media === "application/json";
}

/**
 * The last Host header found to name loopback: clients send the same one on every request,
 * and parsing it (an IP-address check) each time costs more than a string compare.
 */
let lastLoopbackHost = "";

function isLoopbackHost(host: string): boolean {
  if (host === lastLoopbackHost) return true;
  if (!isLoopbackName(hostOfHeader(host))) return false;
  lastLoopbackHost = host;
  return true;
}

/** Refuses a DNS-rebinding Host (421) and a foreign Origin (403), HTTP and upgrades alike. */
function checkLocal(request: FastifyRequest, options: GuardOptions): void {
  const host = request.headers.host ?? "";
  if (options.loopbackBind && host !== "" && !isLoopbackHost(host))
    throw new SwitchyardError(
      "misdirected_request",
      `this router serves loopback names only without auth, not ${JSON.stringify(hostOfHeader(host))}; use 127.0.0.1 or localhost, or start it with auth`,
    );
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const own = `${options.tls ? "https" : "http"}://${host}`.toLowerCase();
  if (origin.toLowerCase() !== own)
    throw new SwitchyardError(
      "forbidden",
      `requests from the web origin ${JSON.stringify(origin)} are refused: without auth only the router's own origin may call it`,
    );
}

function checkJsonBody(request: FastifyRequest): void {
  if (
    hasBody(request) &&
    request.routeOptions.config.ownBodyTypes !== true &&
    !isJsonType(request.headers["content-type"])
  )
    throw new SwitchyardError(
      "unsupported_media_type",
      `send the body as JSON with Content-Type: application/json, not ${JSON.stringify(request.headers["content-type"] ?? "none")}`,
    );
}

/**
 * Without auth, checks every request before routing work starts (upgrades included). JSON
 * bodies must say so: a page may send `text/plain` cross-origin without a preflight,
 * `application/json` not.
 */
export function installRequestGuards(app: FastifyInstance, options: GuardOptions): void {
  app.addHook("onRequest", (request, _reply, done) => {
    try {
      // API.md makes all three rules the no-auth defence: with auth, a page holds no
      // credential to ride on, and clients keep the content types they had.
      if (options.withoutAuth) {
        checkLocal(request, options);
        checkJsonBody(request);
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}
