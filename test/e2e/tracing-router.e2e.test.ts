/**
 * API.md "Observability", the router's publish rule end to end: a real router process (the
 * built `dist/`) exporting OTLP/HTTP JSON to a real receiver on loopback. Tracing on: the
 * `send` span continues the request's `traceparent` header and its context is what the
 * event stores; in binary mode `ce-traceparent` is the event's and stays. Tracing off
 * (`OTEL_TRACES_EXPORTER=none`, endpoint set): the stored event carries exactly the
 * request's header and nothing is exported.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-run.js";
import { eventually } from "../support/eventually.js";
import { type OtlpReceiver, startOtlpReceiver } from "../support/otlp-receiver.js";
import { type Api, api, event, uniqueName } from "../support/router.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

const PRODUCER = 4;
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN = "00f067aa0ba902b7";
const REQUEST = `00-${TRACE_ID}-${PARENT_SPAN}-01`;
const OWN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

let dir: string;
let receiver: OtlpReceiver;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sy-tracing-router-"));
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function publish(http: Api, topic: string, body: unknown, headers: Record<string, string>) {
  return http.call("POST", `/v1/topics/${topic}/events`, {
    raw: JSON.stringify(body),
    headers: {
      "content-type": Array.isArray(body)
        ? "application/cloudevents-batch+json"
        : "application/cloudevents+json",
      ...headers,
    },
  });
}

async function stored(http: Api, topic: string): Promise<Record<string, unknown>[]> {
  return (await http.get(`/v1/topics/${topic}/events?from=1`)).body.events;
}

describe("tracing on (OTLP/HTTP JSON)", () => {
  let router: RouterProcess;
  let http: Api;

  beforeAll(async () => {
    router = await startRouterProcess({
      dataDir: join(dir, "on"),
      command: "dev",
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_BSP_SCHEDULE_DELAY: "50",
      },
    });
    http = api(router.url);
  }, 60_000);
  afterAll(async () => {
    await router?.stop();
  });

  it("exports a PRODUCER `send` span in the request's trace; the event stores its context", async () => {
    const topic = uniqueName("orders");
    const answer = await publish(http, topic, event(), { traceparent: REQUEST });
    expect(answer.status).toBe(201);
    const id = answer.body.events[0].id;
    const send = await eventually(() => {
      const found = receiver.spans.find(
        (s) => s.name === `send ${topic}` && s.traceId === TRACE_ID,
      );
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(send.kind).toBe(PRODUCER);
    expect(send.service).toBe("switchyard"); // OTEL_SERVICE_NAME unset
    expect(send.parentSpanId).toBe(PARENT_SPAN);
    expect(send.attributes).toMatchObject({
      "messaging.system": "switchyard",
      "messaging.destination.name": topic,
      "messaging.operation.type": "send",
      "messaging.message.id": id,
    });
    const [first] = await stored(http, topic);
    expect(first?.traceparent).toBe(`00-${TRACE_ID}-${send.spanId}-01`);
  });

  it("a batch: one span counting the events; an event's own context is kept", async () => {
    const topic = uniqueName("orders");
    const batch = [event({ traceparent: OWN, tracestate: "own=1" }), event()];
    expect((await publish(http, topic, batch, { traceparent: REQUEST })).status).toBe(201);
    const send = await eventually(() => {
      const found = receiver.spans.find((s) => s.name === `send ${topic}`);
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(send.traceId).toBe(TRACE_ID);
    expect(send.attributes["messaging.batch.message_count"]).toBe(2);
    const events = await stored(http, topic);
    expect(events[0]).toMatchObject({ traceparent: OWN, tracestate: "own=1" });
    expect(events[1]?.traceparent).toBe(`00-${TRACE_ID}-${send.spanId}-01`);
  });

  it("binary mode: `ce-traceparent` is the event's, the plain header the span's parent", async () => {
    const topic = uniqueName("orders");
    const answer = await http.call("POST", `/v1/topics/${topic}/events`, {
      raw: JSON.stringify({ n: 1 }),
      headers: {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": uniqueName("bin"),
        "ce-source": "/test",
        "ce-type": "test.happened",
        "ce-traceparent": OWN,
        traceparent: REQUEST,
      },
    });
    expect(answer.status).toBe(201);
    const send = await eventually(() => {
      const found = receiver.spans.find((s) => s.name === `send ${topic}`);
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(send.parentSpanId).toBe(PARENT_SPAN);
    const [first] = await stored(http, topic);
    expect(first?.traceparent).toBe(OWN);
  });
});

describe("tracing off (OTEL_TRACES_EXPORTER=none)", () => {
  let router: RouterProcess;
  let http: Api;

  beforeAll(async () => {
    router = await startRouterProcess({
      dataDir: join(dir, "off"),
      command: "dev",
      // An endpoint is set, so only `none` keeps tracing off.
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_TRACES_EXPORTER: "none",
        OTEL_BSP_SCHEDULE_DELAY: "50",
      },
    });
    http = api(router.url);
  }, 60_000);

  it("stores exactly the request's traceparent and tracestate, and exports nothing", async () => {
    const topic = uniqueName("orders");
    const before = receiver.spans.length;
    const answer = await publish(http, topic, event(), {
      traceparent: REQUEST,
      tracestate: "vendor=abc",
    });
    expect(answer.status).toBe(201);
    const [first] = await stored(http, topic);
    expect(first?.traceparent).toBe(REQUEST);
    expect(first?.tracestate).toBe("vendor=abc");
    // A graceful stop is when a router with tracing would flush what it buffered.
    await router.stop();
    expect(receiver.spans.filter((s) => s.name === `send ${topic}`)).toEqual([]);
    expect(receiver.spans.length).toBe(before);
  });
});

describe("a protocol the router cannot export", () => {
  it("refuses to start with one line naming the variable", async () => {
    const run = await runCli(["dev", "--port", "0", "--data", join(dir, "grpc")], {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
    });
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toContain("OTEL_EXPORTER_OTLP_PROTOCOL grpc is not supported");
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
