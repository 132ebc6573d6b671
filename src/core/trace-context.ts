/**
 * W3C Trace Context `traceparent` values, as the CloudEvents distributed-tracing extension
 * carries them. Plain strings here: core knows no tracing library, both the router and the
 * SDK turn these into OpenTelemetry span contexts.
 */

/** The fields of an OpenTelemetry `SpanContext` a `traceparent` holds (from another process). */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  /** The sampled bit: the only trace flag defined. */
  readonly traceFlags: number;
  readonly isRemote: true;
}

// Version 00 exactly, or a later version (which may append fields), per W3C Trace Context §4.3.
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** The parsed value, or undefined when it is not a valid `traceparent`. */
export function parseTraceParent(value: unknown): TraceParent | undefined {
  if (typeof value !== "string") return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as string[];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return {
    traceId: traceId as string,
    spanId: spanId as string,
    traceFlags: Number.parseInt(flags as string, 16) & 1,
    isRemote: true,
  };
}

export function formatTraceParent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, "0")}`;
}
