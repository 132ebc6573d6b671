import type { RawData, WebSocket } from "ws";
import type { Broker, SettleOp } from "../broker/broker.js";
import { SwitchyardError } from "../core/errors.js";
import { type Corkable, TurnCork } from "../core/turn-cork.js";
import { problemOf } from "./problem.js";
import { deliveriesArrayJson, settledJson } from "./render.js";

const SETTLE_OPS: ReadonlySet<string> = new Set(["ack", "nack", "extend", "reject"]);
const MAX_LEASE = 1_000;
const MAX_CREDIT = 10_000_000;
const LEASE_WAIT_MS = 30_000;
/** Close code when the subscription disappears while streaming. */
export const CLOSE_SUBSCRIPTION_GONE = 4404;
/** Close code when the stream's key or dashboard session ended (revoked, expired, signed out). */
export const CLOSE_CREDENTIAL_ENDED = 4401;
/**
 * RFC 6455's 1013 "Try Again Later": this node can no longer confirm the stream's credential
 * (its key or session view is stale, as when requests answer 503 `engine_unavailable`).
 */
export const CLOSE_TRY_AGAIN_LATER = 1013;

type FrameId = string | number | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function badFrame(pointer: string, message: string): SwitchyardError {
  return new SwitchyardError("invalid_request", `bad frame: ${pointer || "frame"} ${message}`, {
    errors: [{ pointer, message }],
  });
}

/**
 * One WebSocket stream of a subscription. Credit-based flow control: the server never leases
 * more than the credit the client has granted and not yet used, so a slow client holds no
 * leases it cannot work on; the next lease waits until the previous frame left the socket.
 * Leases still held when the connection closes expire and are redelivered (at-least-once);
 * deliveries whose frame could not be written go back at once, without using an attempt.
 */
export class StreamSession {
  readonly closed: Promise<void>;
  readonly #socket: WebSocket;
  readonly #broker: Broker;
  readonly #name: string;
  readonly #abort = new AbortController();
  readonly #signal: AbortSignal;
  readonly #transport: Corkable | undefined;
  readonly #cork = new TurnCork();
  #credit = 0;
  #wake: (() => void) | null = null;
  #alive = true;

  constructor(
    socket: WebSocket,
    broker: Broker,
    name: string,
    shutdown: AbortSignal,
    transport?: Corkable,
  ) {
    this.#socket = socket;
    this.#transport = transport;
    this.#broker = broker;
    this.#name = name;
    this.#signal = AbortSignal.any([this.#abort.signal, shutdown]);
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    void this.closed.then(() => this.#stop());
    socket.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on("pong", () => {
      this.#alive = true;
    });
    void this.#deliverLoop();
  }

  get #open(): boolean {
    return this.#socket.readyState === this.#socket.OPEN && !this.#signal.aborted;
  }

  close(code: number, reason: string): void {
    this.#stop();
    this.#socket.close(code, reason);
  }

  /**
   * Liveness check, called periodically: a peer that did not answer the previous ping is
   * gone (its leases then expire and are redelivered), so the connection is dropped.
   */
  heartbeat(): void {
    if (!this.#alive) {
      this.terminate();
      return;
    }
    this.#alive = false;
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.ping();
  }

  terminate(): void {
    this.#stop();
    this.#socket.terminate();
  }

  #stop(): void {
    this.#abort.abort();
    this.#wake?.();
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    let frame: unknown;
    try {
      if (isBinary) throw new Error("binary frame");
      frame = JSON.parse(
        Array.isArray(data) ? Buffer.concat(data).toString("utf8") : data.toString("utf8"),
      );
    } catch {
      this.#sendError(
        new SwitchyardError("invalid_json", "frames are JSON text", {
          errors: [{ pointer: "", message: "not JSON text" }],
        }),
      );
      return;
    }
    if (!isRecord(frame)) {
      this.#sendError(badFrame("", "must be a JSON object"));
      return;
    }
    const id = typeof frame.id === "string" || typeof frame.id === "number" ? frame.id : undefined;
    if (frame.type === "credit") this.#onCredit(frame, id);
    else if (typeof frame.type === "string" && SETTLE_OPS.has(frame.type))
      void this.#settle(frame.type as SettleOp, frame, id);
    else
      this.#sendError(
        badFrame("/type", 'must be "credit", "ack", "nack", "extend" or "reject"'),
        id,
      );
  }

  #onCredit(frame: Record<string, unknown>, id: FrameId): void {
    const n = frame.n;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > MAX_CREDIT) {
      this.#sendError(badFrame("/n", `must be an integer from 1 to ${MAX_CREDIT}`), id);
      return;
    }
    this.#credit = Math.min(MAX_CREDIT, this.#credit + n);
    this.#wake?.();
  }

  async #settle(op: SettleOp, frame: Record<string, unknown>, id: FrameId): Promise<void> {
    const { type: _type, id: _id, ...body } = frame;
    try {
      const results = await this.#broker.settle(this.#name, op, body);
      const json = settledJson(results);
      void this.#send(
        `{"type":"results","op":"${op}",${id === undefined ? "" : `"id":${JSON.stringify(id)},`}${json.slice(1)}`,
      );
    } catch (error) {
      this.#sendError(error, id);
    }
  }

  async #deliverLoop(): Promise<void> {
    while (this.#open) {
      if (this.#credit === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = null;
        continue;
      }
      const deliveries = await this.#lease();
      if (deliveries === null) return;
      if (deliveries.length === 0) {
        if (!this.#open) return;
        continue;
      }
      this.#credit = Math.max(0, this.#credit - deliveries.length);
      // An attempt is a frame written to an open socket: anything else goes back unused.
      const written =
        this.#open &&
        (await this.#send(`{"type":"deliveries","deliveries":${deliveriesArrayJson(deliveries)}}`));
      if (!written) {
        await this.#broker.release(this.#name, deliveries);
        return;
      }
    }
  }

  /** Deliveries, or null when the stream must end. */
  async #lease(): Promise<Awaited<ReturnType<Broker["lease"]>> | null> {
    const max = Math.min(this.#credit, MAX_LEASE);
    try {
      return await this.#broker.lease(this.#name, { max, waitMs: LEASE_WAIT_MS }, this.#signal);
    } catch (error) {
      if (!this.#open) return null;
      this.#sendError(error);
      const gone = error instanceof SwitchyardError && error.code === "subscription_not_found";
      this.close(
        gone ? CLOSE_SUBSCRIPTION_GONE : 1011,
        gone ? "subscription not found" : "lease failed",
      );
      return null;
    }
  }

  #sendError(error: unknown, id?: FrameId): void {
    const frame = { type: "error", ...(id === undefined ? {} : { id }), problem: problemOf(error) };
    void this.#send(JSON.stringify(frame));
  }

  /**
   * Resolves once the frame has been written to the socket (the stream's backpressure): true
   * when it was, false when the socket was closed or the write failed.
   */
  #send(json: string): Promise<boolean> {
    if (this.#socket.readyState !== this.#socket.OPEN) return Promise.resolve(false);
    this.#cork.hold(this.#transport);
    return new Promise((resolve) => this.#socket.send(json, (error) => resolve(!error)));
  }
}
