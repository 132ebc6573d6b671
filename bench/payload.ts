/** Benchmark events: 256 bytes in the form each system stores them. */
import { randomUUID } from "node:crypto";
import type { EventFields } from "./subjects/subject.ts";

export const EVENT_BYTES = 256;
export const EVENT_SOURCE = "/bench";
export const EVENT_TYPE = "bench.event";

// The structured CloudEvent the SDK builds around `data`: a 36-character UUID id and a
// 24-character ISO time; only `data` varies in length.
const ENVELOPE_BYTES = JSON.stringify({
  specversion: "1.0",
  id: "00000000-0000-0000-0000-000000000000",
  source: EVENT_SOURCE,
  time: "2026-01-01T00:00:00.000Z",
  type: EVENT_TYPE,
  data: { pad: "" },
}).length;

/**
 * The `data` of a structured CloudEvent whose JSON form is `EVENT_BYTES` long (give or take a
 * byte): the fields plus a `pad` string.
 */
export function cloudEventData(fields: EventFields): Record<string, unknown> {
  // `{"a":1}` adds its length minus the braces, plus one comma, to `{"pad":""}`.
  const fieldsJson = JSON.stringify(fields);
  const fieldsBytes = fieldsJson.length > 2 ? fieldsJson.length - 1 : 0;
  const pad = Math.max(0, EVENT_BYTES - ENVELOPE_BYTES - fieldsBytes);
  return { ...fields, pad: "x".repeat(pad) };
}

/**
 * `--payload`: `plain` events; `correlated` ones carry a `correlationid` attribute (ten
 * events share one, as a short workflow would); `indexed` ones too, on topics that keep the
 * `correlationid` index. `correlated` against `indexed` is the index's own write cost.
 * Likewise `subjected` events carry a `subject` (ten events per entity stream) and
 * `subjects` ones too, on topics indexed by `subject`: the subject index's write cost.
 * `traced` events carry all an application's attributes at once (`subject`, `partitionkey`,
 * `correlationid` and a `traceparent` of their own) on topics keeping both indexes: what a
 * fully featured event costs (the budget runs it with the router tracing, too).
 */
export const PAYLOADS = [
  "plain",
  "correlated",
  "indexed",
  "subjected",
  "subjects",
  "traced",
] as const;
export type Payload = (typeof PAYLOADS)[number];

const EVENTS_PER_FLOW = 10;
let flowCounter = 0;

/** The indexes bench topics keep under `payload`. */
export function payloadIndexes(payload: Payload): readonly ("subject" | "correlationid")[] {
  if (payload === "indexed") return ["correlationid"];
  if (payload === "subjects") return ["subject"];
  if (payload === "traced") return ["subject", "correlationid"];
  return [];
}

const flowId = (n: number): string =>
  Math.floor(n / EVENTS_PER_FLOW)
    .toString(36)
    .padStart(8, "0");

/** The extra attributes of a bench event under `payload` (each id is ~16 bytes). */
export function payloadAttributes(payload: Payload | undefined): Record<string, string> {
  if (payload === undefined || payload === "plain") return {};
  const n = flowCounter++;
  if (payload === "subjected" || payload === "subjects") return { subject: `order-${flowId(n)}` };
  if (payload === "traced")
    return {
      subject: `order-${flowId(n)}`,
      partitionkey: `order-${flowId(n)}`,
      correlationid: `flow-${flowId(n)}`,
      traceparent: traceparent(n),
    };
  return { correlationid: `flow-${flowId(n)}` };
}

// A trace per flow and a span per event, as a traced producer would send them; derived from
// the counter so that making them costs the bench no randomness.
const TRACE_PREFIX = randomUUID().replaceAll("-", "").slice(0, 16);
function traceparent(n: number): string {
  const trace = `${TRACE_PREFIX}${Math.floor(n / EVENTS_PER_FLOW)
    .toString(16)
    .padStart(16, "0")}`;
  const span = (n + 1).toString(16).padStart(16, "0");
  return `00-${trace}-${span}-01`;
}

/** A whole structured CloudEvent as brokers without a CloudEvents client store it. */
export function structuredEvent(fields: EventFields): { id: string; body: string } {
  const id = randomUUID();
  const body = JSON.stringify({
    specversion: "1.0",
    id,
    source: EVENT_SOURCE,
    time: new Date().toISOString(),
    type: EVENT_TYPE,
    data: cloudEventData(fields),
  });
  return { id, body };
}
