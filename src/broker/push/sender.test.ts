import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VettedEndpoint } from "./endpoint-guard.js";
import { createPushSender, type PushSender } from "./sender.js";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Sink {
  readonly port: number;
  readonly seen: {
    path: string;
    host: string;
    headers: IncomingMessage["headers"];
    body: string;
  }[];
  connections: number;
  close(): Promise<void>;
}

async function listen(server: Server, handler: Handler): Promise<Sink> {
  const sink: Sink = { port: 0, seen: [], connections: 0, close: async () => {} };
  server.on("connection", () => sink.connections++);
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      sink.seen.push({
        path: req.url ?? "",
        host: req.headers.host ?? "",
        headers: req.headers,
        body,
      });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(sink, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function endpoint(url: string, address = "127.0.0.1"): VettedEndpoint {
  const parsed = new URL(url);
  return { url: parsed, hostname: parsed.hostname, address, family: 4, port: Number(parsed.port) };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sinkWith(handler: Handler): Promise<Sink> {
  const sink = await listen(createServer(), handler);
  cleanups.push(() => sink.close());
  return sink;
}

function sender(options: Parameters<typeof createPushSender>[0] = {}): PushSender {
  const s = createPushSender(options);
  cleanups.push(() => s.close());
  return s;
}

describe("push sender over HTTP", () => {
  it("posts to the pinned address while sending the endpoint's Host", async () => {
    const sink = await sinkWith((_req, res) => res.writeHead(204).end());
    const outcome = await sender().send({
      endpoint: endpoint(`http://sink.invalid:${sink.port}/hook?x=1`),
      headers: { "content-type": "application/json", "webhook-id": "msg_1" },
      body: '{"a":1}',
      timeoutMs: 5000,
    });
    expect(outcome).toMatchObject({ kind: "response", status: 204, body: "" });
    expect(sink.seen).toHaveLength(1);
    expect(sink.seen[0]).toMatchObject({
      path: "/hook?x=1",
      host: `sink.invalid:${sink.port}`,
      body: '{"a":1}',
    });
    expect(sink.seen[0]?.headers["webhook-id"]).toBe("msg_1");
  });

  it("keeps connections alive across requests", async () => {
    const sink = await sinkWith((_req, res) => res.writeHead(200).end("ok"));
    const s = sender();
    for (let i = 0; i < 20; i++) {
      const outcome = await s.send({
        endpoint: endpoint(`http://127.0.0.1:${sink.port}/`),
        headers: {},
        body: "x",
        timeoutMs: 5000,
      });
      expect(outcome).toMatchObject({ status: 200, body: "ok" });
    }
    // undici may open a second socket while the first finishes its first response; then reuses.
    expect(sink.connections).toBeLessThanOrEqual(2);
  });

  it("never follows a redirect", async () => {
    const sink = await sinkWith((req, res) => {
      if (req.url === "/start") res.writeHead(307, { location: "/elsewhere" }).end();
      else res.writeHead(204).end();
    });
    const outcome = await sender().send({
      endpoint: endpoint(`http://127.0.0.1:${sink.port}/start`),
      headers: {},
      body: "x",
      timeoutMs: 5000,
    });
    expect(outcome).toMatchObject({ kind: "response", status: 307 });
    expect(sink.seen.map((s) => s.path)).toEqual(["/start"]);
  });

  it("keeps only the first bytes of a large response", async () => {
    const big = "y".repeat(1_000_000);
    const sink = await sinkWith((_req, res) => res.writeHead(500).end(big));
    const outcome = await sender({ maxResponseBytes: 100 }).send({
      endpoint: endpoint(`http://127.0.0.1:${sink.port}/`),
      headers: {},
      body: "x",
      timeoutMs: 5000,
    });
    expect(outcome).toMatchObject({ kind: "response", status: 500, body: "y".repeat(100) });
  });

  it("passes Retry-After through", async () => {
    const sink = await sinkWith((_req, res) => res.writeHead(429, { "retry-after": "3" }).end());
    const outcome = await sender().send({
      endpoint: endpoint(`http://127.0.0.1:${sink.port}/`),
      headers: {},
      body: "x",
      timeoutMs: 5000,
    });
    expect(outcome).toMatchObject({ status: 429, retryAfter: "3" });
  });

  it("times out a request whose answer never comes, bounded by timeoutMs", async () => {
    const sink = await sinkWith(() => {});
    const outcome = await sender().send({
      endpoint: endpoint(`http://127.0.0.1:${sink.port}/`),
      headers: {},
      body: "x",
      timeoutMs: 200,
    });
    expect(outcome).toMatchObject({ kind: "error", error: "timeout" });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(150);
    expect(outcome.latencyMs).toBeLessThan(5000);
  });

  it("times out a response whose body trickles past timeoutMs", async () => {
    const sink = await sinkWith((_req, res) => {
      res.writeHead(200);
      res.write("partial");
    });
    const outcome = await sender().send({
      endpoint: endpoint(`http://127.0.0.1:${sink.port}/`),
      headers: {},
      body: "x",
      timeoutMs: 200,
    });
    expect(outcome).toMatchObject({ kind: "error", error: "timeout" });
  });

  it("reports a refused connection as a connection error", async () => {
    const sink = await sinkWith(() => {});
    const port = sink.port;
    await sink.close();
    const outcome = await sender().send({
      endpoint: endpoint(`http://127.0.0.1:${port}/`),
      headers: {},
      body: "x",
      timeoutMs: 2000,
    });
    expect(outcome).toMatchObject({ kind: "error", error: "connection" });
    expect(outcome.kind === "error" && outcome.message).toMatch(/ECONNREFUSED/);
  });
});

describe("push sender over HTTPS", () => {
  let dir = "";
  let cert = "";
  let key = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sy-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=sink.test",
        "-addext",
        "subjectAltName=DNS:sink.test",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    key = readFileSync(join(dir, "key.pem"), "utf8");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("connects to the vetted address with SNI and certificate check on the host name", async () => {
    const server = createTlsServer({ cert, key });
    const servernames: (string | false | null)[] = [];
    server.on("secureConnection", (socket: TLSSocket) => servernames.push(socket.servername));
    const sink = await listen(server, (_req, res) => res.writeHead(202).end());
    cleanups.push(() => sink.close());
    const s = sender({ ca: cert });
    const ok = await s.send({
      endpoint: endpoint(`https://sink.test:${sink.port}/in`),
      headers: {},
      body: "x",
      timeoutMs: 5000,
    });
    expect(ok).toMatchObject({ kind: "response", status: 202 });
    expect(servernames).toEqual(["sink.test"]);
    expect(sink.seen[0]?.host).toBe(`sink.test:${sink.port}`);

    const wrongName = await s.send({
      endpoint: endpoint(`https://other.test:${sink.port}/in`),
      headers: {},
      body: "x",
      timeoutMs: 5000,
    });
    expect(wrongName).toMatchObject({ kind: "error", error: "connection" });
    expect(wrongName.kind === "error" && wrongName.message).toMatch(
      /other\.test|altname|certificate/i,
    );
    expect(sink.seen).toHaveLength(1);
  });
});
