import {
  context,
  createTraceState,
  type Link,
  ProxyTracerProvider,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { formatTraceParent, parseTraceParent } from "../core/trace-context.js";

/**
 * The SDK's one tracing port (API.md "Observability"), on the global `@opentelemetry/api`:
 * the app's own provider, or the one `startTracing()` from `switchyard/tracing` registers.
 * With neither, nothing here creates a span or touches a context.
 */

export interface EventTraceContext {
  readonly traceparent: string;
  readonly tracestate?: string;
}

const SYSTEM = "switchyard";

/** The active span's context as CloudEvents extension attributes; undefined without one. */
export function activeTraceContext(): EventTraceContext | undefined {
  const active = trace.getSpanContext(context.active());
  if (active === undefined || !trace.isSpanContextValid(active)) return undefined;
  const traceparent = formatTraceParent(active.traceId, active.spanId, active.traceFlags);
  const tracestate = active.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The global tracer, or undefined when no provider is registered (tracing off). */
function tracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  if (provider instanceof ProxyTracerProvider)
    return provider.getDelegateTracer("switchyard") === undefined
      ? undefined
      : provider.getTracer("switchyard");
  return provider.getTracer("switchyard");
}

function eventSpanContext(event: {
  traceparent?: unknown;
  tracestate?: unknown;
}): SpanContext | undefined {
  const parsed = parseTraceParent(event.traceparent);
  if (parsed === undefined || typeof event.tracestate !== "string") return parsed;
  return { ...parsed, traceState: createTraceState(event.tracestate) };
}

export interface HandledEvent {
  readonly id: string;
  readonly topic: string;
  readonly traceparent?: unknown;
  readonly tracestate?: unknown;
}

/**
 * Runs `handle` in a CONSUMER `process {topic}` span linked to the event's context (and its
 * child when the handler has no span of its own around it), ended with error status when
 * `handle` throws. Without tracing, just runs `handle`.
 */
export async function inProcessSpan<T>(
  event: HandledEvent,
  subscription: string,
  handle: () => Promise<T> | T,
): Promise<T> {
  const found = tracer();
  if (found === undefined) return handle();
  const origin = eventSpanContext(event);
  const links: Link[] = origin === undefined ? [] : [{ context: origin }];
  const ambient = context.active();
  const parent =
    origin === undefined || trace.getSpan(ambient) !== undefined
      ? ambient
      : trace.setSpanContext(ambient, origin);
  const span = found.startSpan(
    `process ${event.topic}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        "messaging.system": SYSTEM,
        "messaging.destination.name": event.topic,
        "messaging.consumer.group.name": subscription,
        "messaging.message.id": event.id,
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
      },
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), handle);
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    span.setAttribute("error.type", error instanceof Error ? error.constructor.name : "_OTHER");
    throw error;
  } finally {
    span.end();
  }
}
