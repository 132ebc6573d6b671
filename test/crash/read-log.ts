import type { LogEntry } from "./checks.js";
import { callUntilAnswered } from "./http.js";

interface LogPage {
  readonly events: readonly {
    readonly id: string;
    readonly offset: number;
    readonly data: { key: string; seq: number };
  }[];
  readonly next: number;
}

/** Reads a topic's whole log, page by page, from offset 1 to the end. */
export async function readWholeLog(url: string, topic: string): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  let from = 1;
  for (;;) {
    const page = (await callUntilAnswered(
      `${url}/v1/topics/${topic}/events?from=${from}&limit=1000`,
      "GET",
      undefined,
      [200],
    )) as LogPage;
    if (page.events.length === 0) return entries;
    for (const event of page.events)
      entries.push({
        id: event.id,
        offset: event.offset,
        key: event.data.key,
        seq: event.data.seq,
      });
    from = page.next;
  }
}
