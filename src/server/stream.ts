import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { SwitchyardError } from "../core/errors.js";
import { answerOnSocket } from "./client-errors.js";
import type { Params, RouteContext } from "./context.js";
import { StreamSession } from "./stream-session.js";

type StreamRequest = { Params: Params<"name"> };

/** Open streams, so that shutdown can close them with 1001 and wait for them. */
export class StreamHub {
  readonly #sessions = new Set<StreamSession>();
  /** The key each stream was opened with (with auth). */
  readonly #keys = new Map<StreamSession, string>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(heartbeatMs = 30_000) {
    this.#heartbeat = setInterval(() => {
      for (const s of this.#sessions) s.heartbeat();
    }, heartbeatMs);
    this.#heartbeat.unref();
  }

  open(session: StreamSession, keyId?: string): void {
    this.#sessions.add(session);
    if (keyId !== undefined) this.#keys.set(session, keyId);
    void session.closed.then(() => {
      this.#sessions.delete(session);
      this.#keys.delete(session);
    });
  }

  /** Closes the streams opened with a key that `invalid` names (revoked or expired: 4401). */
  closeWhere(invalid: (keyId: string) => boolean, code: number, reason: string): void {
    for (const [session, keyId] of this.#keys)
      if (invalid(keyId)) {
        this.#keys.delete(session);
        session.close(code, reason);
      }
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Closes every stream with `code`; streams still open after `timeoutMs` are terminated. */
  async closeAll(code = 1001, timeoutMs = 2_000): Promise<void> {
    clearInterval(this.#heartbeat);
    const sessions = [...this.#sessions];
    for (const s of sessions) s.close(code, "router shutting down");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(sessions.map((s) => s.closed)), timeout]);
    clearTimeout(timer);
    for (const s of this.#sessions) s.terminate();
  }
}

const STREAM_URL = "/v1/subscriptions/:name/stream";

/**
 * Handshake errors `ws` finds (bad `Sec-WebSocket-Key`, `-Version`, `-Protocol`, `Upgrade`)
 * are problems like every other error; `ws` itself would answer them in text/html. An
 * upgrade to any route but the stream is refused before it happens: @fastify/websocket
 * would upgrade it and close at once without a close code.
 */
function guardUpgrades(app: RouteContext["app"]): void {
  app.websocketServer.on("wsClientError", (error: Error, socket: Duplex) =>
    answerOnSocket(
      socket,
      new SwitchyardError("invalid_request", `WebSocket handshake: ${error.message}`),
      // What RFC 6455 asks a server to say when the version is the problem.
      error.message.includes("Version") ? { "sec-websocket-version": "13, 8" } : {},
    ),
  );
  app.addHook("onRequest", async (request) => {
    if (
      request.ws &&
      request.routeOptions.url !== undefined &&
      request.routeOptions.url !== STREAM_URL
    )
      throw new SwitchyardError(
        "invalid_request",
        `${request.routeOptions.url} is not a WebSocket endpoint; streams are at /v1/subscriptions/{name}/stream`,
      );
  });
}

export function streamRoute({ app, broker, shutdown }: RouteContext, hub: StreamHub): void {
  guardUpgrades(app);
  app.route<StreamRequest>({
    method: "GET",
    url: STREAM_URL,
    // Runs before the upgrade: an unknown subscription is a plain 404 problem.
    preHandler: async (request) => {
      await broker.subscriptionConfig(request.params.name);
    },
    handler: async (_request, reply) => {
      reply.header("upgrade", "websocket");
      throw new SwitchyardError(
        "upgrade_required",
        "this endpoint is a WebSocket: send an upgrade request",
      );
    },
    wsHandler: (socket: WebSocket, request) => {
      hub.open(
        new StreamSession(socket, broker, request.params.name, shutdown),
        request.principal?.record.id,
      );
    },
  });
}
