import { connect } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { send } from "../../test/fuzz/raw-http.js";
import { routerPerFile, startTestRouter } from "../../test/support/router.js";

// Found by the API fuzzer (test/fuzz): requests Node's HTTP parser refuses were answered in
// Fastify's own JSON, an unknown `Expect` got a bare 417, bytes after a whole request
// answered that request with a 400, and upgrade requests refused by Fastify's framework
// errors left their socket open, so close() never resolved.

const router = routerPerFile();

function get(target: string, headers: [string, string | Buffer][] = []) {
  return send(router.port, {
    method: "GET",
    target: Buffer.from(target),
    headers,
    body: Buffer.alloc(0),
  });
}

function problemOf(res: { headers: Record<string, string>; body: Buffer }) {
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  return JSON.parse(res.body.toString("utf8"));
}

/** Writes raw bytes and resolves with what came back once the server closed the connection. */
function rawExchange(port: number, bytes: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.write(bytes);
  });
}

describe("requests the HTTP parser refuses", () => {
  it("answers oversized headers 431 headers_too_large", async () => {
    const res = await get("/healthz", [["x-big", "a".repeat(20_000)]]);
    expect(res.status).toBe(431);
    expect(problemOf(res)).toMatchObject({ code: "headers_too_large", status: 431 });
  });

  it("answers a forbidden byte in a header 400 invalid_request", async () => {
    const res = await get("/healthz", [["x-bad", Buffer.from("a\u0000b")]]);
    expect(res.status).toBe(400);
    expect(problemOf(res)).toMatchObject({ code: "invalid_request", status: 400 });
  });

  it("routes a request with an unknown Expect as usual", async () => {
    const res = await get("/healthz", [["expect", "something-else"]]);
    expect(res.status).toBe(200);
  });

  it("answers a whole request with its own answer when garbage follows it", async () => {
    const reply = await rawExchange(
      router.port,
      "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\nGARBAGE\r\n\r\n",
    );
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply).not.toMatch(/HTTP\/1\.1 400/);
  });
});

describe("upgrade requests refused before routing", () => {
  for (const [what, path] of [
    ["a malformed percent-escape", "/v1/subscriptions/%zz/stream"],
    ["an over-long name", `/v1/subscriptions/${"a".repeat(1_100)}/stream`],
  ])
    it(`answers ${what} with a problem, closes the socket, and lets close() finish`, async () => {
      const own = await startTestRouter();
      try {
        const reply = await rawExchange(
          own.port,
          `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
        );
        expect(reply).toMatch(/^HTTP\/1\.1 400 /);
        expect(reply).toMatch(/content-type: application\/problem\+json/i);
      } finally {
        const started = Date.now();
        await own.dispose();
        expect(Date.now() - started).toBeLessThan(10_000);
      }
    });
});

describe("WebSocket handshakes", () => {
  const upgrade = (path: string, headers: Record<string, string>) =>
    rawExchange(
      router.port,
      `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: websocket\r\n${Object.entries(
        headers,
      )
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("")}\r\n`,
    );
  const KEY = { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" };

  beforeAll(async () => {
    await fetch(`${router.url}/v1/topics/hs`, { method: "PUT" });
    await fetch(`${router.url}/v1/subscriptions/hs-sub`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: "hs" }),
    });
  });

  // Found by the API fuzzer: `ws` answered these in text/html.
  for (const [what, headers] of [
    ["a bad version", { ...KEY, "sec-websocket-version": "m*#" }],
    ["a bad key", { "sec-websocket-key": "short", "sec-websocket-version": "13" }],
    [
      "a bad subprotocol list",
      { ...KEY, "sec-websocket-version": "13", "sec-websocket-protocol": "a,,b" },
    ],
  ] as const)
    it(`refuses ${what} with a problem`, async () => {
      const reply = await upgrade("/v1/subscriptions/hs-sub/stream", headers);
      expect(reply).toMatch(/^HTTP\/1\.1 400 /);
      expect(reply).toMatch(/content-type: application\/problem\+json/i);
      expect(reply).toMatch(/"code":"invalid_request"/);
    });

  // Found by the API fuzzer: this was upgraded, then closed at once without a close code.
  it("refuses an upgrade to a route that is not a stream with a problem", async () => {
    const reply = await upgrade("/v1/subscriptions/stream", {
      ...KEY,
      "sec-websocket-version": "13",
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toMatch(/not a WebSocket endpoint/);
  });
});
