import type { KeyObject } from "node:crypto";
import type { PushConfig } from "../../core/config.js";
import { SwitchyardError } from "../../core/errors.js";
import type { CloudEvent } from "../../core/event.js";
import type { AttemptRecord, Delivery } from "../../engine/engine.js";
import type { AttemptTrace, RouterTracing } from "../tracing.js";
import {
  batchRequest,
  binaryRequest,
  type EventRequest,
  structuredRequest,
} from "./cloudevent-request.js";
import type { EndpointChecker } from "./endpoint-checker.js";
import { reservedHeaderError } from "./headers.js";
import type { PushOutcome, PushSender } from "./sender.js";
import { batchWebhookId, webhookHeaders, webhookId } from "./signing.js";

/**
 * One push attempt: builds the request for one delivery (or a batch), signs it, checks the
 * endpoint, sends it, and describes what happened as attempt-log records.
 */

export interface AttemptTarget {
  readonly subscription: string;
  readonly push: PushConfig;
  /** The push secrets, decoded once per config. */
  readonly keys: readonly KeyObject[];
}

export interface AttemptContext {
  readonly sender: PushSender;
  readonly endpoints: EndpointChecker;
  readonly now: () => number;
  readonly signal: AbortSignal;
  /** Tracing on: the attempt's span, sent as the request's `traceparent`. */
  readonly tracing?: RouterTracing;
}

export interface AttemptResult {
  readonly outcome: PushOutcome;
  readonly records: readonly AttemptRecord[];
}

/** Characters of the response body kept in the attempt log. */
const LOGGED_RESPONSE_CHARS = 1_024;
const USER_AGENT = "Switchyard-Webhooks/1";

interface Parsed {
  readonly delivery: Delivery;
  readonly event: CloudEvent;
}

function parse(delivery: Delivery): Parsed {
  return { delivery, event: JSON.parse(delivery.record.body) as CloudEvent };
}

function eventRequest(target: AttemptTarget, events: readonly Parsed[]): EventRequest {
  const first = events[0];
  if (target.push.batch != null || first === undefined)
    return batchRequest(events.map((e) => e.delivery.record));
  return target.push.mode === "structured"
    ? structuredRequest(first.delivery.record)
    : binaryRequest(first.delivery.record, first.event);
}

function messageId(target: AttemptTarget, events: readonly Parsed[]): string {
  const first = events[0];
  if (target.push.batch == null && first !== undefined)
    return webhookId(target.subscription, first.event.source, first.event.id);
  return batchWebhookId(
    target.subscription,
    events.map((e) => e.event),
  );
}

/** The user's headers allowed through, lower-cased, after our user-agent: once per config. */
const baseHeaders = new WeakMap<PushConfig, Readonly<Record<string, string>>>();

function userHeaders(push: PushConfig): Readonly<Record<string, string>> {
  let headers = baseHeaders.get(push);
  if (headers === undefined) {
    const built: Record<string, string> = { "user-agent": USER_AGENT };
    for (const [name, value] of Object.entries(push.headers))
      if (reservedHeaderError(name) === null) built[name.toLowerCase()] = value;
    headers = built;
    baseHeaders.set(push, headers);
  }
  return headers;
}

/** User headers before ours, so none of ours (content type, signature, ce-*) can be overridden. */
function headersFor(
  target: AttemptTarget,
  request: EventRequest,
  id: string,
  timestampSec: number,
  trace: AttemptTrace | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { ...userHeaders(target.push), ...request.headers };
  if (trace !== undefined) Object.assign(headers, trace.headers);
  return Object.assign(headers, webhookHeaders(target.keys, id, timestampSec, request.body));
}

function refused(error: unknown): PushOutcome {
  const message =
    error instanceof SwitchyardError ? error.message : `endpoint check failed: ${String(error)}`;
  return { kind: "error", error: "refused", message, latencyMs: 0 };
}

function records(events: readonly Parsed[], at: number, outcome: PushOutcome): AttemptRecord[] {
  const response = outcome.kind === "response" ? outcome : null;
  const ok = response !== null && response.status >= 200 && response.status < 300;
  const error =
    outcome.kind === "error"
      ? `${outcome.error}: ${outcome.message}`
      : ok
        ? null
        : `HTTP ${outcome.status}`;
  return events.map(({ delivery, event }) => ({
    eventId: event.id,
    offset: delivery.record.offset,
    attempt: delivery.attempt,
    at,
    status: response?.status ?? null,
    latencyMs: outcome.latencyMs,
    error,
    response:
      response === null || response.body === ""
        ? null
        : response.body.slice(0, LOGGED_RESPONSE_CHARS),
  }));
}

/** Sends `deliveries` as one request; never rejects. */
export async function attemptDelivery(
  context: AttemptContext,
  target: AttemptTarget,
  deliveries: readonly Delivery[],
): Promise<AttemptResult> {
  const at = context.now();
  const events = deliveries.map(parse);
  const trace = context.tracing?.startAttempt(
    deliveries[0]?.record.topic ?? "",
    target.subscription,
    events.map((e) => e.event),
    target.push.batch != null,
  );
  let outcome: PushOutcome;
  try {
    const endpoint = await context.endpoints.check(target.push.url);
    const request = eventRequest(target, events);
    const id = messageId(target, events);
    outcome = await context.sender.send({
      endpoint,
      headers: headersFor(target, request, id, Math.floor(at / 1000), trace),
      body: request.body,
      timeoutMs: target.push.timeoutMs,
      signal: context.signal,
    });
  } catch (error) {
    outcome = refused(error);
  }
  trace?.end(
    outcome.kind === "response"
      ? { status: outcome.status, error: null }
      : { status: null, error: `${outcome.error}: ${outcome.message}` },
  );
  return { outcome, records: records(events, at, outcome) };
}
