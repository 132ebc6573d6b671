/**
 * Per-key rate limits on a real router with auth, over HTTP and WebSocket: the request
 * bucket, the event bucket (a batch passes once, then waits out its debt), keys without
 * limits, a stream counted once when it opens, and refusals that write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { generateKey } from "../../src/broker/keys.js";
import { createClient } from "../../src/client/index.js";
import { eventually } from "../support/eventually.js";
import {
  api,
  event,
  type JsonResponse,
  startTestRouter,
  type TestRouter,
} from "../support/router.js";

const ADMIN = generateKey().key;
let router: TestRouter;
const http = api(() => router.url);

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const admin = as(ADMIN);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createKey(scopes: readonly string[], rateLimit?: Record<string, number>) {
  const answer = await http.post(
    "/v1/keys",
    { name: "rl", scopes, ...(rateLimit ? { rateLimit } : {}) },
    { headers: admin },
  );
  expect(answer.status, answer.text).toBe(201);
  const key = answer.body.key as string;
  // The router's view learns the key through its watch: poll until it authenticates.
  await eventually(async () => expect((await self(key)).status).toBe(200));
  return key;
}

const self = (key: string) => http.get("/v1/keys/self", { headers: as(key) });

function publish(key: string, topic: string, events: unknown): Promise<JsonResponse> {
  return http.call("POST", `/v1/topics/${topic}/events`, {
    raw: JSON.stringify(events),
    headers: {
      ...as(key),
      "content-type": Array.isArray(events)
        ? "application/cloudevents-batch+json"
        : "application/cloudevents+json",
    },
  });
}

async function eventCount(topic: string): Promise<number> {
  const page = await http.get(`/v1/topics/${topic}/events?from=0&limit=1000`, { headers: admin });
  expect(page.status, page.text).toBe(200);
  return (page.body.events as unknown[]).length;
}

/** Asserts a 429 `rate_limited` and returns its Retry-After seconds. */
function retryAfterOf(answer: { status: number; text: string; headers: Headers }): number {
  expect(answer.status, answer.text).toBe(429);
  expect(JSON.parse(answer.text).code).toBe("rate_limited");
  const seconds = Number(answer.headers.get("retry-after"));
  expect(Number.isInteger(seconds) && seconds >= 1, `Retry-After ${seconds}`).toBe(true);
  return seconds;
}

const batch = (n: number) => Array.from({ length: n }, () => event());

beforeAll(async () => {
  router = await startTestRouter({ auth: true, adminKey: ADMIN });
  for (const topic of ["rl.requests", "rl.events", "rl.free", "rl.sdk"]) {
    const created = await http.put(`/v1/topics/${topic}`, {}, { headers: admin });
    expect(created.status, created.text).toBeLessThan(300);
  }
  await http.put("/v1/subscriptions/rl-sub", { topic: "rl.requests" }, { headers: admin });
}, 60_000);

afterAll(async () => {
  await router?.dispose();
});

describe("per-key rate limits", () => {
  it("refuses requests past the burst with 429 and Retry-After, and admits them after the wait", async () => {
    const key = await createKey(["publish:rl.requests", "read:rl.requests"], {
      requestsPerSec: 5,
    });
    // Sequential, bounded: a loaded machine refills a little between requests.
    let refused: JsonResponse | undefined;
    let admitted = 0;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const answer = await self(key);
      if (answer.status === 429) refused = answer;
      else {
        expect(answer.status, answer.text).toBe(200);
        admitted++;
      }
    }
    expect(refused, "no request was refused").toBeDefined();
    expect(admitted).toBeLessThan(200);
    const wait = retryAfterOf(refused as JsonResponse);
    // A refused publish wrote nothing.
    const before = await eventCount("rl.requests");
    retryAfterOf(await publish(key, "rl.requests", event()));
    expect(await eventCount("rl.requests")).toBe(before);
    await pause(wait * 1_000);
    expect((await self(key)).status).toBe(200);
    expect((await publish(key, "rl.requests", event())).status).toBe(201);
    expect(await eventCount("rl.requests")).toBe(before + 1);
  });

  it("admits a batch larger than the event bucket once, then refuses until it refills", async () => {
    const key = await createKey(["publish:rl.events"], { eventsPerSec: 100 });
    expect((await publish(key, "rl.events", batch(500))).status).toBe(201);
    const refused = await publish(key, "rl.events", event());
    const wait = retryAfterOf(refused);
    // 400 events of debt at 100/s: above empty after 4 s, so a wait of 4 or 5 s is named.
    expect(wait).toBeGreaterThanOrEqual(4);
    expect(wait).toBeLessThanOrEqual(5);
    expect(await eventCount("rl.events")).toBe(500);
    // Other requests of the key are not events: they pass.
    expect((await self(key)).status).toBe(200);
    await pause(wait * 1_000);
    expect((await publish(key, "rl.events", batch(2))).status).toBe(201);
    expect(await eventCount("rl.events")).toBe(502);
  });

  it("never refuses a key without limits", async () => {
    const key = await createKey(["publish:rl.free"]);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => publish(key, "rl.free", batch(100))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    for (let i = 0; i < 50; i++) expect((await self(key)).status).toBe(200);
    expect(await eventCount("rl.free")).toBe(1_000);
  });

  it("counts a WebSocket stream as one request when it opens", async () => {
    // 0.2 requests/s: one request leaves the bucket 0.8 in debt, 4 s from above empty.
    const key = await createKey(["consume:rl-sub"], { requestsPerSec: 0.2 });
    const url = `${router.url.replace(/^http/, "ws")}/v1/subscriptions/rl-sub/stream`;
    const upgrade = () =>
      new Promise<{ socket: WebSocket; status: number; retryAfter: string | undefined }>(
        (resolve, reject) => {
          const socket = new WebSocket(url, { headers: as(key) });
          socket.once("unexpected-response", (_req, res) => {
            const retry = res.headers["retry-after"];
            resolve({ socket, status: res.statusCode ?? 0, retryAfter: retry });
            res.resume();
          });
          socket.once("open", () => resolve({ socket, status: 101, retryAfter: undefined }));
          socket.once("error", reject);
        },
      );
    // The key's first request (the view check) left it in debt: refused until it refills.
    const early = await upgrade();
    expect(early.status).toBe(429);
    expect(Number(early.retryAfter)).toBeGreaterThanOrEqual(1);
    const opened = await eventually(
      async () => {
        const attempt = await upgrade();
        expect(attempt.status).toBe(101);
        return attempt.socket;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    // The open charged the bucket: the key's next request is refused, the stream stays open.
    retryAfterOf(await self(key));
    expect(opened.readyState).toBe(WebSocket.OPEN);
    opened.close();
  }, 30_000);

  it("lets the SDK wait out a 429 on its own (it honours Retry-After)", async () => {
    const key = await createKey(["publish:rl.sdk"], { eventsPerSec: 100 });
    // 150 events leave 50 in debt: refused for about 1 s.
    expect((await publish(key, "rl.sdk", batch(150))).status).toBe(201);
    retryAfterOf(await publish(key, "rl.sdk", event()));
    const client = createClient({ url: router.url, apiKey: key });
    try {
      await client.publish("rl.sdk", { type: "t", data: { n: 1 } });
    } finally {
      await client.close();
    }
    expect(await eventCount("rl.sdk")).toBe(151);
  });
});
