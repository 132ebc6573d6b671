/**
 * `--tracing`: an OTLP/HTTP endpoint on 127.0.0.1 that reads and drops every export, so the
 * router pays the whole cost of tracing (spans, batching, protobuf, HTTP) and nothing else.
 * Imports only `node:` modules (the bench runs with type stripping).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface DiscardingReceiver {
  /** The router's `OTEL_*` environment pointing here. */
  readonly env: Readonly<Record<string, string>>;
  /** Export requests received. */
  readonly requests: () => number;
  close(): Promise<void>;
}

export async function startDiscardingOtlpReceiver(): Promise<DiscardingReceiver> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests++;
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
