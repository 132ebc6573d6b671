/** A tiny HTTP server: exact "METHOD /path" routes, or prefix routes ending in "*". */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface Request {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
  /** The raw body: webhooks verify these exact bytes before parsing. */
  readonly body: Buffer;
}

export interface Response {
  readonly status: number;
  readonly body?: unknown;
  readonly contentType?: string;
}

export type Route = (request: Request) => Response | Promise<Response>;

export function json(body: unknown, status = 200): Response {
  return { status, body };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, response: Response): void {
  const { status, body, contentType } = response;
  if (body === undefined) {
    res.writeHead(status).end();
  } else if (typeof body === "string") {
    res.writeHead(status, { "content-type": contentType ?? "text/plain; charset=utf-8" }).end(body);
  } else {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  }
}

function find(routes: Readonly<Record<string, Route>>, key: string): Route | undefined {
  const exact = routes[key];
  if (exact) return exact;
  const prefix = Object.keys(routes).find((r) => r.endsWith("*") && key.startsWith(r.slice(0, -1)));
  return prefix === undefined ? undefined : routes[prefix];
}

/** Serves `routes` plus `GET /healthz` on 127.0.0.1:`port`; resolves with the base URL. */
export async function serve(
  port: number,
  routes: Readonly<Record<string, Route>>,
): Promise<string> {
  const all: Record<string, Route> = { "GET /healthz": () => json({ ok: true }), ...routes };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = find(all, `${req.method} ${url.pathname}`);
    if (!route) return void send(res, json({ error: "not found" }, 404));
    readBody(req)
      .then((body) =>
        route({
          method: req.method ?? "GET",
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body,
        }),
      )
      .then(
        (response) => send(res, response),
        (error: unknown) => send(res, json({ error: String(error) }, 500)),
      );
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  return `http://127.0.0.1:${actual}`;
}
