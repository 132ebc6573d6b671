/**
 * AckIds are opaque to clients but self-describing to every node: the subscription's seek
 * epoch, the event's offset and the lease number the delivery was handed out under. A node
 * can therefore settle an ackId another node issued, and tell "superseded" (`expired`) from
 * "never issued" without any shared in-memory state.
 */
export interface AckIdParts {
  /** Incremented by every seek: ackIds from an older epoch are `expired`. */
  readonly epoch: number;
  readonly offset: number;
  /** Per-subscription lease counter: a redelivery gets a new one, so an old ackId is `expired`. */
  readonly lease: number;
  /**
   * Optional engine-specific locator (>= 1) for deliveries the offset alone cannot find. The
   * NATS engine sets it on redriven events: their sequence in its redrive stream. Encoded as
   * a fourth part only when present, so three-part ackIds are unchanged.
   */
  readonly ref?: number;
}

const PART = "[0-9a-z]{1,11}";
const ACK_ID = new RegExp(`^${PART}\\.${PART}\\.${PART}(?:\\.${PART})?$`);

export function encodeAckId(parts: AckIdParts): string {
  const base = `${parts.epoch.toString(36)}.${parts.offset.toString(36)}.${parts.lease.toString(36)}`;
  return parts.ref === undefined ? base : `${base}.${parts.ref.toString(36)}`;
}

/** The parts of an ackId, or null when the string is not one Switchyard could have issued. */
export function decodeAckId(ackId: unknown): AckIdParts | null {
  if (typeof ackId !== "string" || !ACK_ID.test(ackId)) return null;
  const [epoch, offset, lease, ref] = ackId.split(".").map((p) => Number.parseInt(p, 36));
  if (epoch === undefined || offset === undefined || lease === undefined) return null;
  if (![epoch, offset, lease].every(Number.isSafeInteger) || offset < 1 || lease < 1) return null;
  if (ref === undefined) return { epoch, offset, lease };
  if (!Number.isSafeInteger(ref) || ref < 1) return null;
  return { epoch, offset, lease, ref };
}
