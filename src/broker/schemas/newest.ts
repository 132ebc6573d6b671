/**
 * A topic's records newest first. The engine reads forwards only, so each window is a forward
 * read of the offsets just below the previous one: memory is one window, never the topic.
 */
import type { EventLog, LogRecord } from "../../engine/engine.js";

export type LogReader = Pick<EventLog, "stats" | "read">;

/** Records per read: bounds the memory of one window (events are up to 1 MiB each). */
const WINDOW = 256;

/** Up to `max` records of `topic`, newest first; stop early by leaving the loop. */
export async function* newestRecords(
  log: LogReader,
  topic: string,
  max: number,
): AsyncGenerator<LogRecord> {
  const { firstOffset, lastOffset } = await log.stats(topic);
  let end = lastOffset;
  let left = max;
  while (end >= firstOffset && left > 0) {
    const from = Math.max(firstOffset, end - WINDOW + 1, end - left + 1);
    const page = await log.read(topic, { offset: from }, end - from + 1);
    // Retention may have trimmed the window meanwhile: the engine then reads from the new
    // first offset on, so records above `end` (yielded already) are left out.
    const records = page.records.filter((r) => r.offset >= from && r.offset <= end);
    for (let i = records.length - 1; i >= 0 && left > 0; i--) {
      const record = records[i];
      if (record === undefined) continue;
      left--;
      yield record;
    }
    end = from - 1;
  }
}
