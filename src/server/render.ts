import type { PublishResult } from "../broker/broker.js";
import { storedEventJson } from "../core/stored-event.js";
import type { Delivery, LogPage, Settled, SubjectPage } from "../engine/engine.js";
import { problemOf } from "./problem.js";

// Answers on the hot paths are spliced from stored JSON: events are never parsed and re-serialised.

export function eventsPageJson(page: LogPage): string {
  let out = '{"events":[';
  for (let i = 0; i < page.records.length; i++) {
    const record = page.records[i];
    if (record === undefined) continue;
    if (i > 0) out += ",";
    out += storedEventJson(record);
  }
  return `${out}],"next":${page.next}}`;
}

export function subjectPageJson(page: SubjectPage): string {
  let out = '{"events":[';
  page.records.forEach((record, i) => {
    out += (i > 0 ? "," : "") + storedEventJson(record);
  });
  return `${out}],"version":${page.version},"firstVersion":${page.firstVersion},"next":${page.next}}`;
}

export function deliveriesArrayJson(deliveries: readonly Delivery[]): string {
  let out = "[";
  for (let i = 0; i < deliveries.length; i++) {
    const d = deliveries[i];
    if (d === undefined) continue;
    if (i > 0) out += ",";
    out += `{"ackId":${JSON.stringify(d.ackId)},"attempt":${d.attempt},"event":${storedEventJson(d.record)}}`;
  }
  return `${out}]`;
}

export function deliveriesJson(deliveries: readonly Delivery[]): string {
  return `{"deliveries":${deliveriesArrayJson(deliveries)}}`;
}

export function publishJson(result: PublishResult): string {
  let out = '{"events":[';
  for (let i = 0; i < result.entries.length; i++) {
    const entry = result.entries[i];
    if (entry === undefined) continue;
    if (i > 0) out += ",";
    out +=
      "error" in entry
        ? JSON.stringify({ id: entry.id, error: problemOf(entry.error) })
        : "scheduled" in entry
          ? JSON.stringify(entry)
          : `{"id":${JSON.stringify(entry.id)},"offset":${entry.offset},"duplicate":${entry.duplicate}${
              entry.subjectVersion === undefined ? "" : `,"subjectversion":${entry.subjectVersion}`
            }}`;
  }
  return `${out}]}`;
}

export function settledJson(results: readonly Settled[]): string {
  return JSON.stringify({ results: results.map((r) => ({ ackId: r.ackId, status: r.status })) });
}
