import type { IncomingMessage } from "node:http";
import type { FastifyRequest } from "fastify";
import { SwitchyardError } from "../core/errors.js";

export interface BodyBounds {
  /** Largest body in bytes; larger ones fail with `body_too_large`. */
  readonly maxBytes: number;
  /** A body that sends nothing for this long fails with `request_timeout`; 0 disables. */
  readonly idleTimeoutMs: number;
}

type Done = (error: Error | null, body?: string | Buffer) => void;

/**
 * A Fastify content-type parser that reads the whole body, as Fastify's `parseAs` does, but
 * also bounds how long the body may stall: Node's server has a headers timeout and a whole-
 * request timeout, and nothing for a body that starts and then stops sending.
 */
export function bodyReader(bounds: BodyBounds, as: "string" | "buffer") {
  const tooLarge = () =>
    new SwitchyardError(
      "body_too_large",
      `the request body exceeds the router's limit of ${bounds.maxBytes} bytes`,
    );
  return (request: FastifyRequest, payload: IncomingMessage, done: Done): void => {
    // A declared length above the limit is refused before reading a byte.
    if (Number(request.headers["content-length"]) > bounds.maxBytes) {
      done(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const timer =
      bounds.idleTimeoutMs > 0 ? setTimeout(onIdle, bounds.idleTimeoutMs).unref() : undefined;
    function finish(error: Error | null, body?: string | Buffer): void {
      clearTimeout(timer);
      payload.off("data", onData);
      payload.off("end", onEnd);
      payload.off("error", onError);
      done(error, body);
    }
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (received > bounds.maxBytes) {
        finish(tooLarge());
        return;
      }
      chunks.push(chunk);
      timer?.refresh();
    }
    function onEnd(): void {
      const bytes = Buffer.concat(chunks, received);
      finish(null, as === "string" ? bytes.toString("utf8") : bytes);
    }
    function onError(error: Error): void {
      finish(new SwitchyardError("invalid_request", error.message, { cause: error }));
    }
    function onIdle(): void {
      finish(
        new SwitchyardError(
          "request_timeout",
          `the request body sent nothing for ${bounds.idleTimeoutMs} ms`,
        ),
      );
    }
    payload.on("data", onData);
    payload.on("end", onEnd);
    payload.on("error", onError);
  };
}
