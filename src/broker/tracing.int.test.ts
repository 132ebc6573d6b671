/**
 * The publish rule of API.md "Observability" on a real SQLite store: an event's own
 * `traceparent`/`tracestate` are kept; one without gets the `send` span's context (tracing
 * on) or the request's header (tracing off, and then no span is made, not even through a
 * globally registered provider). Spans land in the SDK's in-memory exporter.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpanKind, trace } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SecretKeyRing } from "../core/secret-box.js";
import type { Engine } from "../engine/engine.js";
import { openSqliteEngine } from "../engine/sqlite/index.js";
import { Broker } from "./broker.js";
import { RouterTracing } from "./tracing.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const REQUEST = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const OWN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

const event = (extra: Record<string, unknown> = {}) => ({
  specversion: "1.0",
  id: randomBytes(6).toString("hex"),
  source: "/t",
  type: "t",
  ...extra,
});

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let dir: string;
let engine: Engine;
let on: Broker;
let off: Broker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-tracing-"));
  engine = await openSqliteEngine({ dir });
  const common = { engine, secretKeys: SecretKeyRing.generate(), autoCreateTopics: true };
  on = new Broker({ ...common, tracing: new RouterTracing(provider.getTracer("test")) });
  off = new Broker(common);
});
afterAll(async () => {
  await on.close();
  await off.close();
  await engine.close();
  await provider.shutdown();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => exporter.reset());

let topics = 0;
async function publishAndRead(
  broker: Broker,
  events: readonly Record<string, unknown>[],
  transport?: { traceparent?: string; tracestate?: string },
): Promise<{ topic: string; stored: Record<string, unknown>[] }> {
  const topic = `trace-${++topics}`;
  await broker.publish(topic, events, events.length > 1, () => true, transport);
  const page = await broker.read(topic, { offset: 1 }, 100);
  return { topic, stored: page.records.map((r) => JSON.parse(r.body)) };
}

function sendSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name.startsWith("send "));
}

describe("tracing off", () => {
  it("stores the request's traceparent and tracestate on an event without one", async () => {
    const { stored } = await publishAndRead(off, [event()], {
      traceparent: REQUEST,
      tracestate: "vendor=abc",
    });
    expect(stored[0]?.traceparent).toBe(REQUEST);
    expect(stored[0]?.tracestate).toBe("vendor=abc");
  });

  it("keeps the event's own context and stores nothing without a request header", async () => {
    const { stored } = await publishAndRead(
      off,
      [event({ traceparent: OWN, tracestate: "own=1" }), event()],
      { traceparent: REQUEST, tracestate: "vendor=abc" },
    );
    expect(stored[0]).toMatchObject({ traceparent: OWN, tracestate: "own=1" });
    expect(stored[1]).toMatchObject({ traceparent: REQUEST, tracestate: "vendor=abc" });
    const bare = await publishAndRead(off, [event()]);
    expect(bare.stored[0]).not.toHaveProperty("traceparent");
  });

  it("ignores a malformed request header", async () => {
    const { stored } = await publishAndRead(off, [event()], { traceparent: "00-zz-01" });
    expect(stored[0]).not.toHaveProperty("traceparent");
  });

  it("creates no span even with a global tracer provider registered", async () => {
    trace.setGlobalTracerProvider(provider);
    try {
      await publishAndRead(off, [event()], { traceparent: REQUEST });
    } finally {
      trace.disable();
    }
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe("tracing on", () => {
  it("stores the send span's context, a PRODUCER child of the request's traceparent", async () => {
    const { topic, stored } = await publishAndRead(on, [event()], { traceparent: REQUEST });
    const [span] = sendSpans();
    expect(span).toBeDefined();
    if (span === undefined) return;
    expect(span.name).toBe(`send ${topic}`);
    expect(span.kind).toBe(SpanKind.PRODUCER);
    const ctx = span.spanContext();
    expect(ctx.traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(stored[0]?.traceparent).toBe(`00-${TRACE_ID}-${ctx.spanId}-01`);
    expect(span.attributes).toMatchObject({
      "messaging.system": "switchyard",
      "messaging.destination.name": topic,
      "messaging.operation.type": "send",
      "messaging.message.id": stored[0]?.id,
    });
    expect(span.attributes).not.toHaveProperty("messaging.batch.message_count");
  });

  it("leaves an event's own traceparent untouched and counts a batch", async () => {
    const { stored } = await publishAndRead(on, [event({ traceparent: OWN }), event(), event()], {
      traceparent: REQUEST,
    });
    const [span] = sendSpans();
    if (span === undefined) throw new Error("no send span");
    expect(stored[0]?.traceparent).toBe(OWN);
    const mine = `00-${TRACE_ID}-${span.spanContext().spanId}-01`;
    expect(stored[1]?.traceparent).toBe(mine);
    expect(stored[2]?.traceparent).toBe(mine);
    expect(span.attributes["messaging.batch.message_count"]).toBe(3);
    expect(span.attributes).not.toHaveProperty("messaging.message.id");
  });

  it("starts a new trace without a request header", async () => {
    const { stored } = await publishAndRead(on, [event()]);
    const [span] = sendSpans();
    if (span === undefined) throw new Error("no send span");
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(TRACE_ID);
    const { traceId, spanId } = span.spanContext();
    expect(stored[0]?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });

  it("stores the request's tracestate, which the send span inherits", async () => {
    const { stored } = await publishAndRead(on, [event()], {
      traceparent: REQUEST,
      tracestate: "vendor=abc",
    });
    expect(stored[0]?.tracestate).toBe("vendor=abc");
  });

  it("an unsampled request header: no span recorded, its own context still stored", async () => {
    const unsampled = `00-${TRACE_ID}-00f067aa0ba902b7-00`;
    const { stored } = await publishAndRead(on, [event()], { traceparent: unsampled });
    expect(exporter.getFinishedSpans()).toEqual([]);
    const value = String(stored[0]?.traceparent);
    expect(value).toMatch(new RegExp(`^00-${TRACE_ID}-[\\da-f]{16}-00$`));
    expect(value).not.toBe(unsampled);
  });

  it("ends the span with an error status when the publish is refused", async () => {
    const refused = on.publish("trace-bad", [{ specversion: "1.0" }], false, () => true, {
      traceparent: REQUEST,
    });
    await expect(refused).rejects.toMatchObject({ code: "invalid_event" });
    const [span] = sendSpans();
    expect(span?.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(span?.attributes["error.type"]).toBe("invalid_event");
  });
});
