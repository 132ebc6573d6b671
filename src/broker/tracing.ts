import {
  type Attributes,
  createTraceState,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { isSwitchyardError } from "../core/errors.js";
import { formatTraceParent, parseTraceParent } from "../core/trace-context.js";

/**
 * The router's one tracing port (API.md "Observability"). Only `@opentelemetry/api`: the
 * tracer comes from whoever set up exporting. Without a tracer the broker never calls in
 * here, so tracing off builds no span, context or link.
 */

/** The transport's W3C headers of a publish request (not the event's `ce-traceparent`). */
export interface TraceHeaders {
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/** The trace context stored on an event that arrived without one. */
export interface TraceStamp {
  readonly traceparent: string;
  readonly tracestate?: string;
}

const SYSTEM = "switchyard";
/** Links from one span to events that carry their own context; a batch may hold thousands. */
const MAX_LINKS = 128;

/** Tracing off: the request's own header, when valid, is what an event without one keeps. */
export function transportStamp(headers: TraceHeaders | undefined): TraceStamp | undefined {
  const traceparent = headers?.traceparent;
  if (traceparent === undefined || parseTraceParent(traceparent) === undefined) return undefined;
  const tracestate = headers?.tracestate;
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
}

function remoteSpanContext(traceparent: unknown, tracestate: unknown): SpanContext | undefined {
  const parsed = parseTraceParent(traceparent);
  if (parsed === undefined || typeof tracestate !== "string") return parsed;
  return { ...parsed, traceState: createTraceState(tracestate) };
}

function eventLinks(events: readonly unknown[]): Link[] {
  const links: Link[] = [];
  for (const event of events) {
    if (links.length >= MAX_LINKS) break;
    const e = event as { traceparent?: unknown; tracestate?: unknown } | null;
    const found =
      e === null || typeof e !== "object"
        ? undefined
        : remoteSpanContext(e.traceparent, e.tracestate);
    if (found !== undefined) links.push({ context: found });
  }
  return links;
}

function stampOf(span: Span): TraceStamp {
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  const traceparent = formatTraceParent(traceId, spanId, traceFlags);
  const tracestate = traceState?.serialize();
  return tracestate === undefined || tracestate === ""
    ? { traceparent }
    : { traceparent, tracestate };
}

function fail(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute("error.type", isSwitchyardError(error) ? error.code : "_OTHER");
}

/** One publish request's `send {topic}` span. */
export interface SendTrace {
  /** What events without a `traceparent` store: this span's context. */
  readonly stamp: TraceStamp;
  succeed(ids: readonly string[]): void;
  fail(error: unknown): void;
}

/** The outcome of one push attempt, as far as its span needs to know. */
export interface AttemptEnd {
  readonly status: number | null;
  /** Set when no HTTP answer came (timeout, connection, refused). */
  readonly error: string | null;
}

/** One push attempt's span; `headers` go on the push request. */
export interface AttemptTrace {
  readonly headers: Readonly<Record<string, string>>;
  end(outcome: AttemptEnd): void;
}

interface TracedEvent {
  readonly id: string;
  readonly traceparent?: unknown;
  readonly tracestate?: unknown;
}

export class RouterTracing {
  readonly #tracer: Tracer;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /**
   * PRODUCER, per the messaging conventions: its context is the creation context of every
   * event in the request that came without one. A child of the request's `traceparent`.
   */
  startSend(
    topic: string,
    transport: TraceHeaders | undefined,
    events: readonly unknown[],
  ): SendTrace {
    const parent = remoteSpanContext(transport?.traceparent, transport?.tracestate);
    const attributes: Attributes = {
      "messaging.system": SYSTEM,
      "messaging.destination.name": topic,
      "messaging.operation.type": "send",
      "messaging.operation.name": "send",
    };
    if (events.length > 1) attributes["messaging.batch.message_count"] = events.length;
    const span = this.#tracer.startSpan(
      `send ${topic}`,
      { kind: SpanKind.PRODUCER, attributes, links: eventLinks(events) },
      parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent),
    );
    return {
      stamp: stampOf(span),
      succeed(ids) {
        if (ids.length === 1 && ids[0] !== undefined)
          span.setAttribute("messaging.message.id", ids[0]);
        span.end();
      },
      fail(error) {
        fail(span, error);
        span.end();
      },
    };
  }

  /**
   * CLIENT, per the messaging conventions: a send whose context is never a creation context
   * (the event keeps its own). One event: a child of the event's context, so the endpoint
   * continues its trace; a batch: a new trace linked to every event's.
   */
  startAttempt(
    topic: string,
    subscription: string,
    events: readonly TracedEvent[],
    batched: boolean,
  ): AttemptTrace {
    const first = events[0];
    const parent =
      !batched && first !== undefined
        ? remoteSpanContext(first.traceparent, first.tracestate)
        : undefined;
    const attributes: Attributes = {
      "messaging.system": SYSTEM,
      "messaging.destination.name": topic,
      "messaging.consumer.group.name": subscription,
      "messaging.operation.type": "send",
      "messaging.operation.name": "push",
    };
    if (batched) attributes["messaging.batch.message_count"] = events.length;
    else if (first !== undefined) attributes["messaging.message.id"] = first.id;
    const span = this.#tracer.startSpan(
      `push ${topic}`,
      { kind: SpanKind.CLIENT, attributes, links: eventLinks(events) },
      parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent),
    );
    const stamp = stampOf(span);
    return {
      headers:
        stamp.tracestate === undefined
          ? { traceparent: stamp.traceparent }
          : { traceparent: stamp.traceparent, tracestate: stamp.tracestate },
      end({ status, error }) {
        if (status !== null) span.setAttribute("http.response.status_code", status);
        if (error !== null) fail(span, new Error(error));
        else if (status === null || status < 200 || status >= 300) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
          span.setAttribute("error.type", String(status));
        }
        span.end();
      },
    };
  }
}
