/**
 * A webhook receiver for push tests: a real HTTP server on 127.0.0.1 that records every
 * request and answers what the test's handler says (204 by default).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SinkRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  /** Milliseconds since the epoch when the body was complete. */
  readonly at: number;
}

/** Answers one request; return nothing to leave it hanging (a slow endpoint). */
export type SinkHandler = (request: SinkRequest, response: ServerResponse) => void;

export interface HttpSink {
  readonly url: string;
  readonly port: number;
  readonly requests: SinkRequest[];
  /** Replaces the handler for requests from now on. */
  handle(handler: SinkHandler): void;
  close(): Promise<void>;
}

export const answer204: SinkHandler = (_req, res) => {
  res.writeHead(204).end();
};

export function answerStatus(
  status: number,
  headers: Record<string, string> = {},
  body = "",
): SinkHandler {
  return (_req, res) => {
    res.writeHead(status, headers).end(body);
  };
}

export async function startSink(
  handler: SinkHandler = answer204,
  path = "/hook",
  /** False keeps no requests (a long run records what it needs in its handler). */
  record = true,
  /** Node's server limits, e.g. `maxHeaderSize` (16 KiB by default). */
  serverOptions: { readonly maxHeaderSize?: number } = {},
): Promise<HttpSink> {
  let current = handler;
  const requests: SinkRequest[] = [];
  const server = createServer(serverOptions, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const request = {
        path: req.url ?? "",
        headers: req.headers,
        body,
        text: body.toString("utf8"),
        at: Date.now(),
      };
      if (record) requests.push(request);
      current(request, res);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    requests,
    handle(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
