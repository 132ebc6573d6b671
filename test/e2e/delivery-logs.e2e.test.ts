/**
 * The router's log, read as an operator's log shipper would: JSON lines on stdout. Every
 * delivery-related line names the subscription, the event and its correlation id (and the
 * request, when a request did the work); no line carries a key, a push secret or a header
 * value.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/broker/keys.js";
import { eventually } from "../support/eventually.js";
import { answerStatus, type HttpSink, startSink } from "../support/http-sink.js";
import { api, event } from "../support/router.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

const ADMIN = generateKey().key;
const PUSH_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const HEADER_VALUE = "tok-never-logged-7d1c";

let dir: string;
let sink: HttpSink;
let router: RouterProcess;

const admin = () => {
  const http = api(() => router.url);
  const headers = { authorization: `Bearer ${ADMIN}` };
  return {
    put: (path: string, body: unknown) => http.call("PUT", path, { headers, body }),
    post: (path: string, body: unknown) => http.call("POST", path, { headers, body }),
    get: (path: string) => http.call("GET", path, { headers }),
    publish: (topic: string, events: unknown[]) =>
      http.call("POST", `/v1/topics/${topic}/events`, {
        raw: JSON.stringify(events),
        headers: { ...headers, "content-type": "application/cloudevents-batch+json" },
      }),
  };
};

type Line = Record<string, unknown>;

function lines(): Line[] {
  return router.output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Line];
      } catch {
        return []; // a line cut by the output buffer's start
      }
    });
}

const withMsg = (msg: string) => lines().filter((l) => l.msg === msg);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sy-logs-"));
  sink = await startSink(answerStatus(500));
  router = await startRouterProcess({
    dataDir: join(dir, "data"),
    auth: true,
    env: { SWITCHYARD_ADMIN_KEY: ADMIN },
    args: ["--allow-private-endpoints", "--log-level", "debug"],
  });
  const a = admin();
  expect((await a.put("/v1/topics/lg.orders", {})).status).toBe(201);
  const mailer = await a.put("/v1/subscriptions/lg-mailer", {
    topic: "lg.orders",
    maxAttempts: 2,
    backoff: { initialMs: 10, maxMs: 20, multiplier: 2 },
    push: { url: sink.url, secret: PUSH_SECRET, headers: { "x-token": HEADER_VALUE } },
  });
  expect(mailer.status, mailer.text).toBe(201);
  const history = await a.put("/v1/subscriptions/lg-history", {
    topic: "lg.orders",
    start: "earliest",
  });
  expect(history.status, history.text).toBe(201);
}, 60_000);

afterAll(async () => {
  await router?.stop();
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("delivery logs", () => {
  it("names subscription, event and correlation id on push retries and dead letters", async () => {
    const placed = event({ id: "lg-order-1", correlationid: "corr-lg-1" });
    expect((await admin().publish("lg.orders", [placed])).status).toBe(201);
    await eventually(() => expect(withMsg("push delivery dead-lettered")).toHaveLength(1), {
      timeoutMs: 15_000,
    });
    const [retry] = withMsg("push attempt failed; retrying");
    expect(retry).toMatchObject({
      level: 30,
      subscription: "lg-mailer",
      topic: "lg.orders",
      eventId: "lg-order-1",
      correlationId: "corr-lg-1",
      attempt: 1,
      status: 500,
      error: "HTTP 500",
    });
    expect(retry?.retryInMs).toEqual(expect.any(Number));
    expect(withMsg("push delivery dead-lettered")[0]).toMatchObject({
      level: 40,
      subscription: "lg-mailer",
      eventId: "lg-order-1",
      correlationId: "corr-lg-1",
      attempt: 2,
      reason: expect.stringContaining("max attempts (2) reached"),
    });
  });

  it("gives pull deliveries and settles the request id", async () => {
    const a = admin();
    const pulled = await a.post("/v1/subscriptions/lg-history/pull", { max: 1, waitMs: 0 });
    expect(pulled.status, pulled.text).toBe(200);
    const [delivery] = (pulled.body as { deliveries: { ackId: string }[] }).deliveries;
    if (delivery === undefined) throw new Error("nothing pulled");
    expect(
      (await a.post("/v1/subscriptions/lg-history/ack", { ackIds: [delivery.ackId] })).status,
    ).toBe(200);
    // The log reaches us through the child's stdout pipe, which may trail the HTTP answer.
    await eventually(() => expect(withMsg("pull ack")).toHaveLength(1), { timeoutMs: 5_000 });
    const [leased] = withMsg("pull delivered");
    expect(leased).toMatchObject({
      level: 20,
      subscription: "lg-history",
      eventId: "lg-order-1",
      correlationId: "corr-lg-1",
      attempt: 1,
      reqId: expect.any(String),
    });
    const [acked] = withMsg("pull ack");
    expect(acked).toMatchObject({
      subscription: "lg-history",
      ackId: delivery.ackId,
      status: "ok",
    });
    expect(acked?.reqId).toEqual(expect.any(String));
    expect(acked?.reqId).not.toBe(leased?.reqId);
  });

  it("logs a redrive's start and end", async () => {
    sink.handle(answerStatus(204));
    const started = await admin().post("/v1/subscriptions/lg-mailer/redrive", {});
    expect(started.status, started.text).toBe(202);
    const id = (started.body as { redrive: string }).redrive;
    await eventually(() => expect(withMsg("redrive finished")).toHaveLength(1), {
      timeoutMs: 15_000,
    });
    expect(withMsg("redrive started")[0]).toMatchObject({ subscription: "lg-mailer", redrive: id });
    expect(withMsg("redrive finished")[0]).toMatchObject({
      subscription: "lg-mailer",
      redrive: id,
      state: "done",
      moved: 1,
    });
    await eventually(() => expect(withMsg("push delivered")).toHaveLength(1), {
      timeoutMs: 15_000,
    });
    expect(withMsg("push delivered")[0]).toMatchObject({
      level: 20,
      subscription: "lg-mailer",
      eventId: "lg-order-1",
      correlationId: "corr-lg-1",
      status: 204,
    });
  });

  it("never writes a key, a push secret or a header value", () => {
    const output = router.output;
    expect(output.length).toBeGreaterThan(0);
    for (const secret of [ADMIN, PUSH_SECRET, HEADER_VALUE]) expect(output).not.toContain(secret);
  });
});
