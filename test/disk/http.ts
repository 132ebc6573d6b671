/** Plain HTTP calls and store checks shared by the disk fault tests. */
import { DatabaseSync } from "node:sqlite";

export interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: Record<string, unknown>;
}

const BATCH = "application/cloudevents-batch+json";

export async function call(
  url: string,
  method: string,
  body?: unknown,
  contentType = "application/json",
): Promise<Answer> {
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "content-type": contentType } }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

export interface TestEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly specversion: "1.0";
  readonly data: { readonly pad: string };
}

/** `count` events with ids `${prefix}-${i}` and about `bytes` of data each. */
export function events(prefix: string, count: number, bytes: number): TestEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    source: "disk-test",
    type: "disk.test",
    specversion: "1.0",
    data: { pad: "x".repeat(bytes) },
  }));
}

export interface Published {
  readonly id: string;
  readonly offset: number;
  readonly duplicate: boolean;
}

export function publish(url: string, topic: string, batch: readonly TestEvent[]): Promise<Answer> {
  return call(`${url}/v1/topics/${topic}/events`, "POST", batch, BATCH);
}

export function publishedOf(answer: Answer): Published[] {
  return answer.body.events as Published[];
}

/** Every event id in the topic's log, in offset order, with its offset. */
export async function readLog(url: string, topic: string): Promise<Published[]> {
  const all: Published[] = [];
  let from = 1;
  for (;;) {
    const page = await call(`${url}/v1/topics/${topic}/events?from=${from}&limit=1000`, "GET");
    if (page.status !== 200) throw new Error(`reading ${topic}: HTTP ${page.status}`);
    const got = page.body.events as { id: string; offset: number }[];
    if (got.length === 0) return all;
    for (const e of got) all.push({ id: e.id, offset: e.offset, duplicate: false });
    from = page.body.next as number;
  }
}

/** `PRAGMA integrity_check` of a stopped router's store. */
export function integrityCheck(dbPath: string): string {
  const db = new DatabaseSync(dbPath);
  try {
    const rows = db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join("; ");
  } finally {
    db.close();
  }
}
