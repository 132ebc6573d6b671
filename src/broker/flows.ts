/**
 * A flow as the API shows it: the records a key may read, the causation edges among them
 * (`causationid` → the event's `id`), and how many records of other topics were left out.
 * An edge whose cause is not in the answer (hidden, removed by retention, beyond the limit,
 * or never published) is left out too, so the edges always join events the answer holds.
 */
import type { StoredEvent } from "../core/event.js";
import { storedEventJson } from "../core/stored-event.js";
import type { FlowPage } from "../engine/engine.js";

export interface FlowEdge {
  readonly from: string;
  readonly to: string;
}

export interface FlowView {
  readonly json: string;
  readonly hidden: number;
}

interface Ids {
  readonly id?: unknown;
  readonly causationid?: unknown;
}

export function flowView(page: FlowPage, mayRead: (topic: string) => boolean): FlowView {
  const parts: string[] = [];
  const ids = new Set<string>();
  const causes: { id: string; cause: string }[] = [];
  let hidden = 0;
  for (const record of page.records) {
    if (!mayRead(record.topic)) {
      hidden++;
      continue;
    }
    parts.push(storedEventJson(record));
    const event = JSON.parse(record.body) as Ids;
    if (typeof event.id !== "string") continue;
    ids.add(event.id);
    if (typeof event.causationid === "string")
      causes.push({ id: event.id, cause: event.causationid });
  }
  const edges: FlowEdge[] = causes
    .filter((c) => ids.has(c.cause))
    .map((c) => ({ from: c.cause, to: c.id }));
  const json = `{"events":[${parts.join(",")}],"edges":${JSON.stringify(edges)},"hidden":${hidden},"truncated":${page.truncated}}`;
  return { json, hidden };
}

/** The answer's shape, for the SDK and tests. */
export interface Flow {
  readonly events: readonly StoredEvent[];
  readonly edges: readonly FlowEdge[];
  readonly hidden: number;
  readonly truncated: boolean;
}
