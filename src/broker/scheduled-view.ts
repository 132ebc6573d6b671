/** The JSON of `GET /v1/topics/{topic}/scheduled` (API.md "Scheduled events"), built once. */
import type { ScheduledPage } from "../engine/engine.js";

export interface ScheduledPageView {
  /** `{ "scheduled": [ { id, source, deliverat, event } ], "next"? }` as JSON text. */
  readonly json: string;
  readonly count: number;
}

export function scheduledPageView(page: ScheduledPage): ScheduledPageView {
  const items = page.records.map(
    (r) =>
      `{"id":${JSON.stringify(r.id)},"source":${JSON.stringify(r.source)},"deliverat":${JSON.stringify(new Date(r.deliverAt).toISOString())},"event":${r.body}}`,
  );
  const next = page.next === null ? "" : `,"next":${JSON.stringify(page.next)}`;
  return { json: `{"scheduled":[${items.join(",")}]${next}}`, count: items.length };
}
