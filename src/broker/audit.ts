import type { Clock } from "../core/clock.js";
import type { Engine } from "../engine/engine.js";
import { uuidv7 } from "./ids.js";
import type { RedriveAudit } from "./redrive.js";
import type { Topics } from "./topics.js";

/**
 * The audit trail: operator actions appended as CloudEvents to an ordinary topic, so they are
 * durable, replayable and readable with the same tools as any event (`switchyard tail
 * switchyard.audit`).
 */
export const AUDIT_TOPIC = "switchyard.audit";
const SOURCE = "/switchyard/broker";

export function redriveAuditWriter(
  engine: Engine,
  topics: Topics,
  clock: Clock,
): (entry: RedriveAudit) => Promise<void> {
  return async (entry) => {
    await topics.ensure(AUDIT_TOPIC);
    const now = clock.now();
    const { job, request, pacing, origin } = entry;
    const event = {
      specversion: "1.0",
      id: uuidv7(now),
      source: SOURCE,
      type: `switchyard.redrive.${entry.event}`,
      subject: job.subscription,
      time: new Date(now).toISOString(),
      datacontenttype: "application/json",
      data: { ...job, request, pacing, origin },
    };
    await engine.log.append(AUDIT_TOPIC, [
      { id: event.id, source: SOURCE, key: job.subscription, body: JSON.stringify(event) },
    ]);
  };
}
