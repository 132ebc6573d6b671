/**
 * The shape every stream of the engine's own bookkeeping shares (redrive queues, the flows
 * index, the subject ledger): file storage, JetStream's 2-minute duplicate window for
 * idempotent retries, and direct gets so any replica answers reads.
 */
import type { StreamConfig } from "@nats-io/jetstream";

const NS_PER_MS = 1_000_000;
const DUPLICATE_WINDOW_MS = 120_000;

export function supportStreamConfig(name: string, subject: string, replicas: number): StreamConfig {
  return {
    name,
    subjects: [subject],
    storage: "file",
    retention: "limits",
    num_replicas: replicas,
    duplicate_window: DUPLICATE_WINDOW_MS * NS_PER_MS,
    allow_direct: true,
  } as StreamConfig;
}
