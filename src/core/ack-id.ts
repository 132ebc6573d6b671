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

/** Characters of one part at most: 36^11 > 2^53, so every safe integer fits. */
const MAX_PART_CHARS = 11;

export function encodeAckId(parts: AckIdParts): string {
  const base = `${parts.epoch.toString(36)}.${parts.offset.toString(36)}.${parts.lease.toString(36)}`;
  return parts.ref === undefined ? base : `${base}.${parts.ref.toString(36)}`;
}

/** The value of a base-36 digit [0-9a-z], or -1. */
function digit36(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  return -1;
}

/**
 * The parts of `ackId` (1 to 11 base-36 digits each, dot-separated, 3 or 4 of them), or null.
 * One pass over the characters: every settle decodes one per event, so this is a hot path.
 */
function splitParts(ackId: string): number[] | null {
  const parts: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= ackId.length; i++) {
    const code = i === ackId.length ? 46 : ackId.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || parts.length === 4) return null;
      parts.push(value);
      value = 0;
      digits = 0;
      continue;
    }
    const d = digit36(code);
    if (d < 0 || ++digits > MAX_PART_CHARS) return null;
    value = value * 36 + d; // exact while the result is a safe integer, the only kind kept
  }
  return parts.length >= 3 ? parts : null;
}

/** The parts of an ackId, or null when the string is not one Switchyard could have issued. */
export function decodeAckId(ackId: unknown): AckIdParts | null {
  if (typeof ackId !== "string") return null;
  const parts = splitParts(ackId);
  if (parts === null) return null;
  const [epoch, offset, lease, ref] = parts;
  if (epoch === undefined || offset === undefined || lease === undefined) return null;
  if (![epoch, offset, lease].every(Number.isSafeInteger) || offset < 1 || lease < 1) return null;
  if (ref === undefined) return { epoch, offset, lease };
  if (!Number.isSafeInteger(ref) || ref < 1) return null;
  return { epoch, offset, lease, ref };
}
