/**
 * Tailing a topic: read pages from the stream, and when caught up wait for a sign of new
 * events — a core subscription on the topic's subject — or a short poll, whichever is first.
 */
import type { LogPosition } from "../../core/positions.js";
import type { LogRecord } from "../../core/stored-event.js";
import type { LogPage } from "../engine.js";
import type { NatsContext } from "./context.js";
import { Waker } from "./waker.js";

const PAGE = 256;
/** Safety net for a wake-up lost while reconnecting. */
const POLL_MS = 1_000;

export async function* tailTopic(
  ctx: NatsContext,
  topic: string,
  from: LogPosition,
  signal: AbortSignal,
  read: (from: LogPosition, limit: number) => Promise<LogPage>,
): AsyncGenerator<LogRecord> {
  const waker = new Waker();
  const subscription = ctx.nc.subscribe(ctx.names.topicSubject(topic), {
    callback: () => waker.notify(),
  });
  signal.addEventListener("abort", waker.notify);
  ctx.closing.addEventListener("abort", waker.notify);
  try {
    let position: LogPosition = from;
    while (!signal.aborted && !ctx.closed) {
      const page = await read(position, PAGE);
      for (const record of page.records) {
        if (signal.aborted || ctx.closed) return;
        yield record;
      }
      position = { offset: page.next };
      if (page.records.length < PAGE) await waker.wait(POLL_MS);
    }
  } finally {
    signal.removeEventListener("abort", waker.notify);
    ctx.closing.removeEventListener("abort", waker.notify);
    subscription.unsubscribe();
  }
}
