/**
 * Without auth, a web page must not be able to drive the router: DNS rebinding (a foreign
 * `Host`) answers 421, a foreign `Origin` 403 (upgrades too), and JSON routes take only
 * `application/json` bodies, so a cross-origin `text/plain` form post changes nothing.
 */
import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { api, event, routerPerFile, uniqueName } from "../support/router.js";

const router = routerPerFile({ autoCreateTopics: true });
const http = api(() => router.url);

interface RawAnswer {
  readonly status: number;
  readonly body: { code?: string; detail?: string };
}

function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: router.port, method, path, headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: text === "" ? {} : JSON.parse(text) }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function subscriptionWithBacklog(): Promise<{
  sub: string;
  position: () => Promise<number>;
}> {
  const topic = uniqueName("guard");
  const sub = uniqueName("guard");
  await http.put(`/v1/topics/${topic}`, {});
  await http.put(`/v1/subscriptions/${sub}`, { topic, start: "earliest" });
  await http.publish(topic, [event(), event(), event()]);
  const position = async () => (await http.get(`/v1/subscriptions/${sub}`)).body.stats.lag;
  return { sub, position };
}

describe("request guards without auth", () => {
  it.each([
    ["evil.example", 421],
    ["evil.example:8420", 421],
    ["127.0.0.1.evil.example", 421],
    ["10.0.0.1", 421],
    ["127.0.0.1", 200],
    ["localhost:1", 200],
    ["127.9.9.9", 200],
    ["[::1]:8420", 200],
    ["LOCALHOST", 200],
  ])("Host %s answers %i (DNS rebinding → misdirected_request)", async (host, status) => {
    const answer = await raw("GET", "/v1/topics", { host });
    expect(answer.status).toBe(status);
    if (status === 421) expect(answer.body.code).toBe("misdirected_request");
  });

  it("refuses a foreign Origin with 403 and accepts the router's own", async () => {
    const host = `127.0.0.1:${router.port}`;
    for (const origin of [
      "https://evil.example",
      "null",
      `http://localhost:${router.port}`,
      `https://${host}`,
    ]) {
      const answer = await raw("GET", "/v1/topics", { host, origin });
      expect(answer.status, origin).toBe(403);
      expect(answer.body.code).toBe("forbidden");
    }
    expect((await raw("GET", "/v1/topics", { host, origin: `http://${host}` })).status).toBe(200);
  });

  it("a web page's cross-origin text/plain POST to seek, ack or redrive changes nothing", async () => {
    const { sub, position } = await subscriptionWithBacklog();
    const before = await position();
    const pulled = await http.post(`/v1/subscriptions/${sub}/pull`, { max: 1 });
    const ackId: string = pulled.body.deliveries[0].ackId;
    const attempts = [
      ["seek", JSON.stringify({ to: "latest" })],
      ["ack", JSON.stringify({ ackIds: [ackId] })],
      ["redrive", JSON.stringify({})],
    ] as const;
    for (const [op, body] of attempts) {
      const headers = { host: `127.0.0.1:${router.port}`, "content-type": "text/plain" };
      const foreign = await raw("POST", `/v1/subscriptions/${sub}/${op}`, {
        ...headers,
        origin: "https://evil.example",
      });
      expect(foreign.status, op).toBe(403);
      // A plain text body is refused even without Origin (an old browser, a proxy that drops it).
      const plain = await raw("POST", `/v1/subscriptions/${sub}/${op}`, headers, body);
      expect(plain.status, op).toBe(415);
      expect(plain.body.code).toBe("unsupported_media_type");
    }
    expect(await position()).toBe(before);
    // The lease taken above is still outstanding: the refused ack did not settle it.
    const ack = await http.post(`/v1/subscriptions/${sub}/ack`, { ackIds: [ackId] });
    expect(ack.body.results[0].status).toBe("ok");
  });

  it("refuses a WebSocket upgrade from a foreign origin", async () => {
    const { sub } = await subscriptionWithBacklog();
    const url = `${router.url.replace("http", "ws")}/v1/subscriptions/${sub}/stream`;
    const refused = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(url, { origin: "https://evil.example" });
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.on("open", () => reject(new Error("upgrade from a foreign origin was accepted")));
      socket.on("error", () => undefined);
    });
    expect(refused).toBe(403);
    const opened = await new Promise<boolean>((resolve) => {
      const socket = new WebSocket(url, { origin: router.url });
      socket.on("open", () => {
        socket.close();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    expect(opened).toBe(true);
  });

  it("publishes keep their own content types", async () => {
    const topic = uniqueName("guard");
    const res = await http.publish(topic, [event()]);
    expect(res.status).toBe(201);
  });
});
