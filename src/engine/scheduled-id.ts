/**
 * The deterministic message id a scheduled event's append carries: the same pending event
 * gives the same id on every node and after every restart, so a firing repeated after a
 * crash or by a second node is deduplicated by the store instead of appended twice. The
 * due time is part of it: the same `source` and `id` scheduled again later is a new event.
 */
import { createHash } from "node:crypto";

export function scheduledMessageId(
  topic: string,
  source: string,
  id: string,
  deliverAt: number,
): string {
  const hash = createHash("sha256")
    .update(`${topic}\u0000${source}\u0000${id}\u0000${deliverAt}`)
    .digest("hex");
  return `sched-${hash.slice(0, 40)}`;
}
