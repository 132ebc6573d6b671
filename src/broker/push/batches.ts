import type { PushBatchConfig } from "../../core/config.js";
import type { Delivery } from "../../engine/engine.js";

/**
 * Splits leased deliveries into requests: one each without batching, else consecutive runs of
 * at most `maxEvents` events and `maxBytes` of event JSON (an event larger than `maxBytes`
 * goes alone). Lease order is kept inside and across chunks.
 */
export function chunkDeliveries(
  deliveries: readonly Delivery[],
  batch: PushBatchConfig | null,
): Delivery[][] {
  if (batch === null) return deliveries.map((d) => [d]);
  const chunks: Delivery[][] = [];
  let current: Delivery[] = [];
  let bytes = 0;
  for (const delivery of deliveries) {
    const size = Buffer.byteLength(delivery.record.body) + 1;
    const full = current.length >= batch.maxEvents || bytes + size > batch.maxBytes;
    if (current.length > 0 && full) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(delivery);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
