/**
 * API.md "Observability", tracing: a real router process (built `dist/`) exporting over
 * OTLP/HTTP protobuf to a real receiver on loopback, an SDK publisher and subscriber in this
 * process exporting OTLP/JSON through `startTracing()`, and a real push endpoint. One trace
 * runs from the publisher's span through the router's `send`, the push attempt, the
 * endpoint's `traceparent` and the SDK's `process` span. With tracing off the router invents
 * nothing and sends nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context, SpanKind, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type SwitchyardClient } from "../../src/client/index.js";
import { startTracing, type Tracing } from "../../src/client/tracing-export.js";
import { eventually } from "../support/eventually.js";
import { type HttpSink, startSink } from "../support/http-sink.js";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from "../support/otlp-receiver.js";
import { api, event, uniqueName } from "../support/router.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

const KIND = { client: 3, producer: 4, consumer: 5 };
const ERROR = 2;
const TRACEPARENT = /^00-([\da-f]{32})-([\da-f]{16})-01$/;

function idsOf(traceparent: unknown): { traceId: string; spanId: string } {
  const m = TRACEPARENT.exec(String(traceparent));
  if (m === null) throw new Error(`not a sampled traceparent: ${String(traceparent)}`);
  return { traceId: m[1] as string, spanId: m[2] as string };
}

let dir: string;
let receiver: OtlpReceiver;
let sink: HttpSink;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sy-tracing-"));
  receiver = await startOtlpReceiver();
  sink = await startSink();
});

afterAll(async () => {
  await sink?.close();
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function pushTo(http: ReturnType<typeof api>, topic: string, mode: string): Promise<void> {
  const name = uniqueName("push");
  const push = { url: `${sink.url}?sub=${name}`, mode };
  expect((await http.put(`/v1/subscriptions/${name}`, { topic, push })).status).toBe(201);
}

describe("tracing on", () => {
  let router: RouterProcess;
  let tracing: Tracing | undefined;
  let client: SwitchyardClient;

  beforeAll(async () => {
    router = await startRouterProcess({
      dataDir: join(dir, "on"),
      args: ["--allow-private-endpoints"],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "50" },
    });
    // The SDK user's side: `switchyard/tracing` set up from the same variables, as JSON.
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "shop",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    tracing = startTracing();
    client = createClient({ url: router.url, source: "/shop" });
  }, 60_000);

  afterAll(async () => {
    await client?.close({ timeoutMs: 1_000 });
    await tracing?.shutdown();
    await router?.stop();
  });

  function spansOf(traceId: string): ReceivedSpan[] {
    return receiver.spans.filter((s) => s.traceId === traceId);
  }

  it("one trace: publisher → router send → push attempt → endpoint → SDK process span", async () => {
    expect(tracing).toBeDefined();
    const http = api(router.url);
    const topic = uniqueName("orders");
    const pull = uniqueName("billing");
    await client.admin.topics.put(topic);
    await pushTo(http, topic, "binary");
    await client.admin.subscriptions.put(pull, { topic, start: "earliest" });

    const tracer = trace.getTracer("shop");
    const checkout = tracer.startSpan("checkout", { kind: SpanKind.SERVER });
    const { traceId, spanId: checkoutId } = checkout.spanContext();
    const result = (await context.with(trace.setSpan(context.active(), checkout), () =>
      client.publish(topic, { type: "order.placed", data: { total: 12 } }),
    )) as { id: string };
    checkout.end();

    const handled: string[] = [];
    const subscriber = client.subscribe(pull, (delivery) => {
      handled.push(String(trace.getActiveSpan()?.spanContext().traceId));
      if (delivery.event.id !== result.id) throw new Error("unexpected event");
    });
    await eventually(() => expect(handled).toHaveLength(1), { timeoutMs: 10_000 });
    await subscriber.close();
    const pushed = await eventually(() => {
      const found = sink.requests.find((r) => r.headers["ce-id"] === result.id);
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });

    // The event keeps the publisher's context; the push request's own header is the attempt.
    const stored = (await http.get(`/v1/topics/${topic}/events?from=1`)).body.events[0];
    expect(idsOf(stored.traceparent)).toEqual({ traceId, spanId: checkoutId });
    expect(pushed.headers["ce-traceparent"]).toBe(stored.traceparent);
    const attemptHeader = idsOf(pushed.headers.traceparent);
    expect(attemptHeader.traceId).toBe(traceId);
    expect(handled).toEqual([traceId]);

    await tracing?.flush();
    const spans = await eventually(
      () => {
        const names = spansOf(traceId).map((s) => s.name);
        expect(names).toEqual(
          expect.arrayContaining([`send ${topic}`, `push ${topic}`, `process ${topic}`]),
        );
        return spansOf(traceId);
      },
      { timeoutMs: 10_000 },
    );
    const send = spans.find((s) => s.name === `send ${topic}`) as ReceivedSpan;
    expect(send).toMatchObject({
      service: "switchyard",
      kind: KIND.producer,
      parentSpanId: checkoutId,
    });
    expect(send.attributes).toMatchObject({
      "messaging.system": "switchyard",
      "messaging.destination.name": topic,
      "messaging.operation.type": "send",
      "messaging.message.id": result.id,
    });
    const attempt = spans.find((s) => s.name === `push ${topic}`) as ReceivedSpan;
    expect(attempt).toMatchObject({
      service: "switchyard",
      kind: KIND.client,
      spanId: attemptHeader.spanId,
      parentSpanId: checkoutId,
    });
    expect(attempt.attributes).toMatchObject({
      "messaging.destination.name": topic,
      "messaging.message.id": result.id,
      "http.response.status_code": 204,
    });
    const processed = spans.find((s) => s.name === `process ${topic}`) as ReceivedSpan;
    expect(processed).toMatchObject({
      service: "shop",
      kind: KIND.consumer,
      parentSpanId: checkoutId,
    });
    expect(processed.links).toEqual([{ traceId, spanId: checkoutId }]);
    expect(processed.attributes).toMatchObject({
      "messaging.consumer.group.name": pull,
      "messaging.message.id": result.id,
      "messaging.operation.type": "process",
    });
    expect(receiver.contentTypes).toEqual(
      expect.arrayContaining(["application/x-protobuf", "application/json"]),
    );
  });

  it("an event without context stores the router's send span; a failed attempt is an error", async () => {
    const http = api(router.url);
    const topic = uniqueName("orders");
    await http.put(`/v1/topics/${topic}`, {});
    const hook = uniqueName("hook");
    sink.handle((req, res) => {
      res.writeHead(req.path.includes(hook) ? 500 : 204).end();
    });
    await http.put(`/v1/subscriptions/${hook}`, {
      topic,
      push: { url: `${sink.url}?${hook}`, mode: "structured" },
      maxAttempts: 1,
    });
    // A transport header and no event context: the send span is the header's child.
    const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const plain = event({ type: "order.placed" });
    const answer = await http.call("POST", `/v1/topics/${topic}/events`, {
      raw: JSON.stringify(plain),
      headers: { "content-type": "application/cloudevents+json", traceparent: parent },
    });
    expect(answer.status).toBe(201);
    const stored = (await http.get(`/v1/topics/${topic}/events?from=1`)).body.events[0];
    const own = idsOf(stored.traceparent);
    expect(own.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(own.spanId).not.toBe("b7ad6b7169203331");
    const spans = await eventually(
      () => {
        const found = spansOf(own.traceId);
        expect(found.map((s) => s.name)).toEqual(
          expect.arrayContaining([`send ${topic}`, `push ${topic}`]),
        );
        return found;
      },
      { timeoutMs: 10_000 },
    );
    expect(spans.find((s) => s.name === `send ${topic}`)).toMatchObject({
      spanId: own.spanId,
      parentSpanId: "b7ad6b7169203331",
    });
    expect(spans.find((s) => s.name === `push ${topic}`)).toMatchObject({
      parentSpanId: own.spanId,
      status: ERROR,
      attributes: expect.objectContaining({ "http.response.status_code": 500 }),
    });
    sink.handle((_req, res) => {
      res.writeHead(204).end();
    });
  });
});

describe("tracing off", () => {
  let router: RouterProcess;

  beforeAll(async () => {
    router = await startRouterProcess({
      dataDir: join(dir, "off"),
      args: ["--allow-private-endpoints"],
      // An endpoint, but `none`: the standard way to turn export off.
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: "none" },
    });
  }, 60_000);

  afterAll(async () => {
    await router?.stop();
  });

  it("keeps the event's context, stores the request's header, invents none, exports nothing", async () => {
    const http = api(router.url);
    const topic = uniqueName("quiet");
    await http.put(`/v1/topics/${topic}`, {});
    await pushTo(http, topic, "binary");
    const before = receiver.contentTypes.length;
    const header = "00-11111111111111111111111111111111-2222222222222222-01";
    const own = "00-33333333333333333333333333333333-4444444444444444-01";
    const bare = event({ type: "bare" });
    const fromHeader = event({ type: "from-header" });
    const send = (ev: Record<string, unknown>, headers: Record<string, string> = {}) =>
      http.call("POST", `/v1/topics/${topic}/events`, {
        raw: JSON.stringify(ev),
        headers: { "content-type": "application/cloudevents+json", ...headers },
      });
    expect((await send(bare)).status).toBe(201);
    expect((await send(fromHeader, { traceparent: header })).status).toBe(201);
    // Binary mode: `ce-traceparent` is the event's, the plain header the transport's.
    const binaryId = uniqueName("bin");
    const binary = await http.call("POST", `/v1/topics/${topic}/events`, {
      raw: "{}",
      headers: {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": binaryId,
        "ce-source": "/e2e",
        "ce-type": "binary",
        "ce-traceparent": own,
        traceparent: header,
      },
    });
    expect(binary.status).toBe(201);

    const events = (await http.get(`/v1/topics/${topic}/events?from=1`)).body.events;
    const byType = Object.fromEntries(events.map((e: Record<string, unknown>) => [e.type, e]));
    expect(byType.bare.traceparent).toBeUndefined();
    expect(byType["from-header"].traceparent).toBe(header);
    expect(byType.binary.traceparent).toBe(own);

    const pushed = await eventually(() => {
      const found = [bare.id, fromHeader.id, binaryId].map((id) =>
        sink.requests.find((r) => r.headers["ce-id"] === id),
      );
      for (const f of found) expect(f).toBeDefined();
      return found as NonNullable<(typeof found)[number]>[];
    });
    expect(pushed.map((r) => r.headers["ce-traceparent"])).toEqual([undefined, header, own]);
    expect(pushed.map((r) => r.headers.traceparent)).toEqual([undefined, undefined, undefined]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.contentTypes.length).toBe(before);
  });
});
