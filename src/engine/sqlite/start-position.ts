/** Resolves a StartPosition against a topic: where a new or seeked subscription begins. */
import { SwitchyardError } from "../../core/errors.js";
import type { StartPosition } from "../../core/positions.js";
import type { Db } from "./database.js";
import { offsetAtTime } from "./events.js";
import type { TopicState } from "./topic-state.js";

export function parseTime(time: string): number {
  const ms = Date.parse(time);
  if (Number.isNaN(ms))
    throw new SwitchyardError("invalid_request", `${JSON.stringify(time)} is not a timestamp`, {
      errors: [{ pointer: "/time", message: "must be an RFC 3339 timestamp" }],
    });
  return ms;
}

/** The next offset to consider; an offset below the first retained one starts there. */
export function resolveStart(db: Db, topic: TopicState, start: StartPosition): number {
  if (start === "earliest") return topic.firstOffset;
  if (start === "latest") return topic.lastOffset + 1;
  if ("offset" in start) return Math.max(start.offset, topic.firstOffset);
  return offsetAtTime(db, topic.id, topic.firstOffset, topic.lastOffset, parseTime(start.time));
}
