// The `ws` package rather than Node's global WebSocket: when the upgrade is refused, `ws`
// hands us the HTTP answer (`unexpected-response`), so a 404 problem from the router becomes a
// precise `subscription_not_found` instead of an anonymous "connection failed"; it also lets
// us ping to find dead connections. It is a dependency of the package already.
import { WebSocket } from "ws";
import { type Corkable, TurnCork } from "../core/turn-cork.js";
import { clientError, isProblem, type Problem, SwitchyardClientError } from "./errors.js";
import type { PulledDelivery, SettleResult } from "./resources.js";
import { type RetryPolicy, retryDelay } from "./retry.js";
import type { CertificateAuthority } from "./tls.js";

/** A settle frame's `id` comes back on its `results` (or `error`) frame. */
export type SettleFrame =
  | { readonly type: "ack"; readonly id: number; readonly ackIds: readonly string[] }
  | {
      readonly type: "extend";
      readonly id: number;
      readonly ackIds: readonly string[];
      readonly leaseMs?: number;
    }
  | {
      readonly type: "nack";
      readonly id: number;
      readonly ackIds: readonly string[];
      readonly delayMs?: number;
    }
  | {
      readonly type: "reject";
      readonly id: number;
      readonly ackIds: readonly string[];
      readonly reason: string;
    };

export type ClientFrame = { readonly type: "credit"; readonly n: number } | SettleFrame;

export type ServerFrame =
  | { readonly type: "deliveries"; readonly deliveries: readonly PulledDelivery[] }
  | { readonly type: "results"; readonly id?: unknown; readonly results: readonly SettleResult[] }
  | { readonly type: "error"; readonly id?: unknown; readonly problem: Problem };

/** The router closes a stream with this code when its subscription is deleted. */
const CLOSE_SUBSCRIPTION_GONE = 4404;
/** WebSocket "going away": the router is shutting down. */
const CLOSE_GOING_AWAY = 1001;
const SHUTDOWN_PAUSE_MS = 1_000;

export interface StreamListener {
  /** Called on every (re)connection; the router's credit for this socket starts at 0. */
  onOpen(): void;
  onFrame(frame: ServerFrame): void;
  /** The socket dropped; a reconnect is scheduled. */
  onDisconnect(error: SwitchyardClientError): void;
  /** The router refused the stream with a 4xx (e.g. unknown subscription): no more retries. */
  onFatal(error: SwitchyardClientError): void;
}

export interface StreamOptions {
  readonly reconnect: RetryPolicy;
  /** Ping this often; a socket that did not answer the previous ping is dropped. */
  readonly heartbeatMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Trusted besides Node's roots on a `wss:` URL. */
  readonly ca?: CertificateAuthority;
}

/** One WebSocket to a subscription's stream that reconnects with backoff until closed. */
export class ReconnectingStream {
  readonly #url: string;
  readonly #listener: StreamListener;
  readonly #options: StreamOptions;
  #socket: WebSocket | undefined;
  /** The connection under the open socket (set on upgrade): corked to coalesce frames. */
  #transport: Corkable | undefined;
  readonly #cork = new TurnCork();
  #retry = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #closed: Promise<void> = Promise.resolve();

  constructor(url: string, listener: StreamListener, options: StreamOptions) {
    this.#url = url;
    this.#listener = listener;
    this.#options = options;
  }

  get open(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.#connect();
  }

  /** Sends a frame when the socket is open; answers false (nothing sent) otherwise. */
  send(frame: ClientFrame): boolean {
    if (!this.#socket || !this.open) return false;
    this.#cork.hold(this.#transport);
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  /** Stops reconnecting and closes the socket; resolves once it is closed. */
  close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const socket = this.#socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) socket.close(1000, "client closing");
    return this.#closed;
  }

  #connect(): void {
    if (this.#stopped) return;
    const socket = new WebSocket(this.#url, {
      headers: { ...this.#options.headers },
      perMessageDeflate: false,
      ...(this.#options.ca === undefined ? {} : { ca: [this.#options.ca].flat() }),
    });
    this.#socket = socket;
    this.#transport = undefined;
    socket.once("upgrade", (response) => {
      if (this.#socket === socket) this.#transport = response.socket;
    });
    this.#closed = new Promise((resolve) => socket.once("close", () => resolve()));
    let failure: SwitchyardClientError | undefined;
    let alive = true;
    const heartbeat = setInterval(() => {
      if (!alive) socket.terminate();
      alive = false;
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    }, this.#options.heartbeatMs);
    socket.on("pong", () => {
      alive = true;
    });
    socket.on("open", () => {
      this.#retry = 0;
      this.#listener.onOpen();
    });
    socket.on("message", (data, isBinary) => {
      alive = true;
      const frame = isBinary ? undefined : parseFrame(String(data));
      if (frame) this.#listener.onFrame(frame);
    });
    socket.on("unexpected-response", (_request, response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        failure = refusal(response.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"));
        socket.terminate();
      });
    });
    socket.on("error", (error) => {
      failure ??= clientError("unreachable", `stream ${this.#url}: ${error.message}`, {
        cause: error,
      });
    });
    socket.on("close", (code, reason) => {
      clearInterval(heartbeat);
      if (code === CLOSE_SUBSCRIPTION_GONE)
        failure = clientError(
          "subscription_not_found",
          `the subscription is gone (${String(reason)})`,
        );
      const why =
        failure ?? clientError("unreachable", `stream closed (${code} ${String(reason)})`);
      this.#afterClose(why, code === CLOSE_GOING_AWAY || why.code === "shutting_down");
    });
  }

  #afterClose(error: SwitchyardClientError, goingAway: boolean): void {
    if (this.#stopped) return;
    if (error.status >= 400 && error.status < 500 && error.status !== 429) {
      this.#stopped = true;
      this.#listener.onFatal(error);
      return;
    }
    this.#listener.onDisconnect(error);
    this.#retry++;
    // A router that is shutting down refuses us until it is gone, and a restart takes a while:
    // knocking again at once only slows its shutdown.
    const floor = goingAway ? SHUTDOWN_PAUSE_MS : 0;
    const delay = Math.max(floor, retryDelay(this.#retry, this.#options.reconnect, error));
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}

function refusal(status: number, text: string): SwitchyardClientError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isProblem(body)) return new SwitchyardClientError(body);
  return new SwitchyardClientError({
    status,
    code: "unexpected_response",
    detail: `the stream upgrade was answered with HTTP ${status}`,
  });
}

function parseFrame(text: string): ServerFrame | undefined {
  try {
    const frame = JSON.parse(text) as { type?: unknown };
    if (frame.type === "deliveries" || frame.type === "results" || frame.type === "error")
      return frame as ServerFrame;
  } catch {
    // A frame we cannot read is dropped; the leases it carried expire and come back.
  }
  return undefined;
}
