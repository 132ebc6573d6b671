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

const sweepMs = (timeoutMs: number): number => Math.max(1, Math.min(1_000, timeoutMs / 4));

interface Reading {
  /** `performance.now()` when the body last sent something (or began). */
  last: number;
  readonly onIdle: () => void;
}

/**
 * The idle bound of every body being read, checked by one interval (a quarter of the bound,
 * at most a second, as Node checks the headers timeout) instead of a timer armed and cleared
 * per request: a body that sends nothing for `timeoutMs` fails up to 25% late. The interval
 * runs only while bodies are read.
 */
class IdleWatch {
  readonly #timeoutMs: number;
  readonly #reading = new Set<Reading>();
  #interval: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  add(reading: Reading): void {
    this.#reading.add(reading);
    this.#interval ??= setInterval(() => this.#sweep(), sweepMs(this.#timeoutMs)).unref();
  }

  delete(reading: Reading): void {
    this.#reading.delete(reading);
  }

  #sweep(): void {
    if (this.#reading.size === 0) {
      clearInterval(this.#interval);
      this.#interval = undefined;
      return;
    }
    const now = performance.now();
    for (const reading of this.#reading)
      if (now - reading.last >= this.#timeoutMs) reading.onIdle();
  }
}

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
  const watch = bounds.idleTimeoutMs > 0 ? new IdleWatch(bounds.idleTimeoutMs) : undefined;
  return (request: FastifyRequest, payload: IncomingMessage, done: Done): void => {
    // A declared length above the limit is refused before reading a byte.
    if (Number(request.headers["content-length"]) > bounds.maxBytes) {
      done(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const reading: Reading = { last: performance.now(), onIdle };
    watch?.add(reading);
    function finish(error: Error | null, body?: string | Buffer): void {
      watch?.delete(reading);
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
      reading.last = performance.now();
    }
    function onEnd(): void {
      // A one-chunk body (most are) is decoded in place: toString copies it anyway.
      const only = chunks.length === 1 && as === "string" ? chunks[0] : undefined;
      const bytes = only ?? Buffer.concat(chunks, received);
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
