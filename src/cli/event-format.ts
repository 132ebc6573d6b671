import type { StoredEvent } from "../core/event.js";
import { type Colour, formatTime } from "./output.js";

const SHOWN_ELSEWHERE = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "data",
  "data_base64",
  "datacontenttype",
  "offset",
  "topic",
  "appendedat",
  "partitionkey",
]);
const MAX_DATA_CHARS = 2_000;

/**
 * Two lines per event for people: `#offset  time  type  id=…  source=…  key=…  ext=…`, then
 * the data as compact JSON (cut at 2,000 characters).
 */
export function prettyEvent(
  event: StoredEvent,
  paint: (colour: Colour, text: string) => string,
  attempt?: number,
): string {
  const parts = [
    paint("yellow", `#${event.offset}`),
    paint("dim", formatTime(event.appendedat)),
    paint("bold", event.type),
    `id=${event.id}`,
    `source=${event.source}`,
  ];
  if (event.partitionkey !== undefined) parts.push(`key=${String(event.partitionkey)}`);
  for (const [name, value] of Object.entries(event))
    if (!SHOWN_ELSEWHERE.has(name)) parts.push(`${name}=${String(value)}`);
  if (attempt !== undefined && attempt > 1) parts.push(paint("red", `attempt ${attempt}`));
  return `${parts.join("  ")}\n  ${dataText(event)}\n`;
}

function dataText(event: StoredEvent): string {
  if (event.data_base64 !== undefined)
    return `<${Math.floor((event.data_base64.length * 3) / 4)} bytes, base64>`;
  if (event.data === undefined) return "<no data>";
  const text = typeof event.data === "string" ? event.data : JSON.stringify(event.data);
  return text.length > MAX_DATA_CHARS ? `${text.slice(0, MAX_DATA_CHARS)}…` : text;
}

/** One JSON line per event; `attempt` is added for subscription deliveries. */
export function jsonEvent(event: StoredEvent, attempt?: number): string {
  return `${JSON.stringify(attempt === undefined ? event : { attempt, event })}\n`;
}
