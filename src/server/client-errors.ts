import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import { type ErrorCode, SwitchyardError } from "../core/errors.js";
import { PROBLEM_CONTENT_TYPE, problemOf } from "./problem.js";

const STATUS_LINES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

function codeOf(error: Error & { code?: string }): { code: ErrorCode; detail: string } {
  if (error.code === "HPE_HEADER_OVERFLOW")
    return {
      code: "headers_too_large",
      detail: "the request line and headers exceed the size limit",
    };
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return { code: "request_timeout", detail: "the request was not received in time" };
  // The parser's own reason (e.g. "Invalid header value char") helps a client fix its request.
  const reason = "reason" in error && typeof error.reason === "string" ? `: ${error.reason}` : "";
  return { code: "invalid_request", detail: `the request is not valid HTTP/1.1${reason}` };
}

/**
 * Answers requests Node's HTTP parser refuses (bad bytes, bad framing, oversized headers, a
 * timeout) with a problem, as the API promises for every error; Fastify's default answers
 * them in its own JSON shape. Created before Fastify (its handler is a constructor option);
 * the server's own onRequest and onResponse hooks call `started` and `ended`.
 */
export class ClientErrors {
  /** The response each connection is writing, so a parse error after it waits its turn. */
  readonly #inFlight = new WeakMap<object, ServerResponse>();

  started(request: IncomingMessage, response: ServerResponse): void {
    this.#inFlight.set(request.socket, response);
  }

  ended(request: IncomingMessage): void {
    this.#inFlight.delete(request.socket);
  }

  readonly handler = (error: Error & { code?: string }, socket: Duplex): void => {
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // Bad bytes after a whole request (pipelined, or after `Connection: close`): that request
    // is being answered, and a 400 written now would arrive as its answer. Let it finish,
    // then close: nothing more can be read from this connection.
    const pending = this.#inFlight.get(socket);
    if (pending?.req.complete && !pending.writableFinished) {
      if (!pending.headersSent) pending.setHeader("connection", "close");
      pending.once("close", () => socket.destroy());
      return;
    }
    const { code, detail } = codeOf(error);
    answerOnSocket(socket, new SwitchyardError(code, detail));
  };
}

/**
 * Writes `error` as a whole problem+json HTTP answer straight to a socket no HTTP response
 * object owns (a parse error, a refused upgrade), then closes it.
 */
export function answerOnSocket(
  socket: Duplex,
  error: SwitchyardError,
  headers: Readonly<Record<string, string>> = {},
): void {
  const problem = problemOf(error);
  const body = JSON.stringify(problem);
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_LINES[problem.status] ?? "Error"}\r\nconnection: close\r\n${extra}content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/**
 * An `Expect` other than `100-continue` is answered by Node with a bare 417 and no problem.
 * RFC 9110 lets a server ignore expectations it does not know: route such requests as usual.
 */
export function ignoreUnknownExpectations(app: FastifyInstance): void {
  app.server.on("checkExpectation", (request, response) => app.routing(request, response));
}
