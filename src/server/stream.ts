import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { KeyStore } from "../broker/keys.js";
import type { OpenSession, SessionStore } from "../broker/sessions.js";
import { SwitchyardError } from "../core/errors.js";
import { answerOnSocket } from "./client-errors.js";
import type { Params, RouteContext } from "./context.js";
import { CLOSE_CREDENTIAL_ENDED, CLOSE_TRY_AGAIN_LATER, StreamSession } from "./stream-session.js";

type StreamRequest = { Params: Params<"name"> };

/** What a stream was opened with (with auth): a key, and the dashboard session if by cookie. */
export interface StreamCredential {
  readonly keyId: string;
  readonly session: Pick<OpenSession, "ref" | "session"> | null;
}

/** Why an open stream must end now: its close code and reason. */
export interface StreamEnding {
  readonly code: number;
  readonly reason: string;
}

/**
 * The sweep's verdict on a stream's credential, from this node's views (no store read):
 * 4401 once its key or dashboard session has ended; 1013 (reason naming
 * `engine_unavailable`) while the views are too stale to tell, so a stream is never kept
 * open on trust a request would not get (fail closed). A view that cannot tell still closes
 * with 4401 what it knows has ended.
 */
export function credentialCheck(
  keys: KeyStore,
  sessions: SessionStore | undefined,
): (credential: StreamCredential) => StreamEnding | undefined {
  return ({ keyId, session }) => {
    if (!keys.isValid(keyId))
      return { code: CLOSE_CREDENTIAL_ENDED, reason: "key revoked or expired" };
    const viaCookie = session !== null && sessions !== undefined;
    if (viaCookie && !sessions.isOpen(session))
      return { code: CLOSE_CREDENTIAL_ENDED, reason: "dashboard session ended" };
    if (!keys.isFresh() || (viaCookie && !sessions.isFresh()))
      return {
        code: CLOSE_TRY_AGAIN_LATER,
        reason: "engine_unavailable: this router's view of the credentials is stale",
      };
    return undefined;
  };
}

/**
 * Open streams, so that shutdown can close them with 1001 and wait for them, and a sweep
 * can close those whose credential ended or can no longer be confirmed.
 */
export class StreamHub {
  readonly #sessions = new Set<StreamSession>();
  readonly #credentials = new Map<StreamSession, StreamCredential>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(heartbeatMs = 30_000) {
    this.#heartbeat = setInterval(() => {
      for (const s of this.#sessions) s.heartbeat();
    }, heartbeatMs);
    this.#heartbeat.unref();
  }

  open(session: StreamSession, credential?: StreamCredential): void {
    this.#sessions.add(session);
    if (credential !== undefined) this.#credentials.set(session, credential);
    void session.closed.then(() => {
      this.#sessions.delete(session);
      this.#credentials.delete(session);
    });
  }

  /** Closes the streams whose credential `ended` gives an ending for, as it says. */
  closeWhere(ended: (credential: StreamCredential) => StreamEnding | undefined): void {
    for (const [session, credential] of this.#credentials) {
      const ending = ended(credential);
      if (ending === undefined) continue;
      this.#credentials.delete(session);
      session.close(ending.code, ending.reason);
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
      const { principal, uiSession } = request;
      const session =
        uiSession === null ? null : { ref: uiSession.ref, session: uiSession.session };
      hub.open(
        new StreamSession(socket, broker, request.params.name, shutdown, request.raw.socket),
        principal === null ? undefined : { keyId: principal.record.id, session },
      );
    },
  });
}
