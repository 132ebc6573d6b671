/** A subscription's stats: position and lag from its consumers, the rest from the owner. */
import type { SubscriptionStats } from "../engine.js";
import { type ConsumerState, consumerState } from "./consumers.js";
import type { OwnerState } from "./owner-state.js";

export async function ownerStats(s: OwnerState): Promise<SubscriptionStats> {
  const { ctx } = s.deps;
  const { rec, name } = s;
  const [topic, redriven] = await Promise.all([
    consumerState(
      ctx,
      ctx.names.topicStream(rec.config.topic),
      ctx.names.topicConsumer(name, rec.epoch),
    ),
    consumerState(ctx, ctx.names.redriveStream, ctx.names.redriveConsumer(name, rec.epoch)),
  ]);
  const now = Date.now();
  let oldest = Number.POSITIVE_INFINITY;
  for (const e of s.table.entries.values())
    if (e.state !== "held") oldest = Math.min(oldest, e.record.appendedAt);
  // Everything not yet acked: beyond the position, or delivered and unacked (held, leased,
  // waiting for a nack delay) — JetStream counts both per consumer.
  const pending = (c: ConsumerState | null) => (c === null ? 0 : c.numPending + c.numAckPending);
  return {
    position: (topic?.deliveredSeq ?? rec.start - 1) + 1,
    lag: pending(topic) + pending(redriven),
    inFlight: s.inFlight(now),
    ...s.counters,
    oldestUnackedAgeMs: Number.isFinite(oldest) ? Math.max(0, now - oldest) : 0,
  };
}
