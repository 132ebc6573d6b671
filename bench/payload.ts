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
 */
export const PAYLOADS = ["plain", "correlated", "indexed", "subjected", "subjects"] as const;
export type Payload = (typeof PAYLOADS)[number];

const EVENTS_PER_FLOW = 10;
let flowCounter = 0;

/** The extra attributes of a bench event under `payload` (the id is ~16 bytes). */
/** The indexes bench topics keep under `payload`. */
export function payloadIndexes(payload: Payload): readonly ("subject" | "correlationid")[] {
  if (payload === "indexed") return ["correlationid"];
  if (payload === "subjects") return ["subject"];
  return [];
}

export function payloadAttributes(payload: Payload | undefined): Record<string, string> {
  if (payload === undefined || payload === "plain") return {};
  const n = flowCounter++;
  if (payload === "subjected" || payload === "subjects")
    return {
      subject: `order-${Math.floor(n / EVENTS_PER_FLOW)
        .toString(36)
        .padStart(8, "0")}`,
    };
  return {
    correlationid: `flow-${Math.floor(n / EVENTS_PER_FLOW)
      .toString(36)
      .padStart(8, "0")}`,
  };
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
