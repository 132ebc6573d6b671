import type { FieldError } from "../core/errors.js";
import type { BatchSender } from "./batcher.js";
import { clientError, isProblem, type Problem, SwitchyardClientError } from "./errors.js";
import { type HttpTransport, segment } from "./http.js";
import { isRetryable, type RetryPolicy, retryDelay, sleep } from "./retry.js";

/** One event ready to send: serialised once, when it was published. */
export interface OutgoingEvent {
  readonly id: string;
  /** The ordering key (`partitionkey`), or null. */
  readonly key: string | null;
  readonly json: string;
  readonly bytes: number;
  /** The event's own `traceparent`, if any: the batch request's transport context. */
  readonly traceparent?: string;
}

export interface PublishResult {
  readonly id: string;
  /** The event's offset; 0 for a scheduled event, which gets one when it is appended. */
  readonly offset: number;
  /**
   * True when the router already had this `source`+`id` inside the topic's dedupe window
   * (for a scheduled event: pending, whatever the window).
   */
  readonly duplicate: boolean;
  /** On topics indexed by `subject`: the event's version in its subject's stream. */
  readonly subjectVersion?: number;
  /** Present for an event with a future `deliverat`: appended at that time. */
  readonly scheduled?: true;
  /** When a scheduled event will be appended (RFC 3339, the original time for a duplicate). */
  readonly deliverat?: string;
}

type Outcome = PublishResult | SwitchyardClientError;
type EntryAnswer =
  | {
      readonly id: string;
      readonly offset: number;
      readonly duplicate: boolean;
      readonly subjectversion?: number;
    }
  | {
      readonly id: string;
      readonly scheduled: true;
      readonly deliverat: string;
      readonly duplicate: boolean;
    }
  | { readonly id: string; readonly error: Problem };

const BATCH_TYPE = "application/cloudevents-batch+json";
const TOO_BIG = new Set(["body_too_large", "batch_too_large"]);

/**
 * The batcher's sender for publishing: POSTs a CloudEvents batch and retries what may succeed
 * later (network errors, 5xx, 429, per-event 5xx inside a 207). Retrying is safe because
 * every event keeps its `id`, so the router answers a repeat with `duplicate: true` and the
 * original offset. A 400 that points at particular events fails only those; the rest go again.
 */
export function publishSender(
  http: HttpTransport,
  policy: RetryPolicy,
): BatchSender<OutgoingEvent, PublishResult> {
  return async (topic, events) => {
    const outcomes: Outcome[] = new Array(events.length);
    // What is left to send are positions in `events`: no object per event and try.
    const positions: number[] = new Array(events.length);
    for (let i = 0; i < positions.length; i++) positions[i] = i;
    await deliver(http, policy, topic, events, positions, outcomes);
    return outcomes;
  };
}

async function deliver(
  http: HttpTransport,
  policy: RetryPolicy,
  topic: string,
  events: readonly OutgoingEvent[],
  entries: readonly number[],
  outcomes: Outcome[],
): Promise<void> {
  let unsent = entries;
  let retries = 0;
  while (unsent.length > 0) {
    let answers: readonly EntryAnswer[];
    try {
      answers = await post(http, topic, events, unsent);
    } catch (error) {
      const failure = asClientError(error);
      if (failure.retryable && retries < policy.retries) {
        await sleep(retryDelay(++retries, policy, failure));
        continue;
      }
      if (TOO_BIG.has(failure.code) && unsent.length > 1) {
        const half = Math.ceil(unsent.length / 2);
        await deliver(http, policy, topic, events, unsent.slice(0, half), outcomes);
        await deliver(http, policy, topic, events, unsent.slice(half), outcomes);
        return;
      }
      unsent = failPointedEvents(failure, unsent, outcomes);
      continue;
    }
    unsent = settleAnswers(answers, unsent, outcomes);
    if (unsent.length > 0) {
      if (retries >= policy.retries) {
        for (const entry of unsent) outcomes[entry] ??= lostError(events[entry] as OutgoingEvent);
        return;
      }
      await sleep(retryDelay(++retries, policy));
    }
  }
}

async function post(
  http: HttpTransport,
  topic: string,
  events: readonly OutgoingEvent[],
  unsent: readonly number[],
): Promise<readonly EntryAnswer[]> {
  const jsons: string[] = new Array(unsent.length);
  // A batch mixes contexts; its first event's is the request's, so the router's `send` span
  // joins that trace (and links to the others).
  let traceparent: string | undefined;
  for (let i = 0; i < unsent.length; i++) {
    const event = events[unsent[i] as number] as OutgoingEvent;
    jsons[i] = event.json;
    traceparent ??= event.traceparent;
  }
  const text = `[${jsons.join(",")}]`;
  const { body } = await http.request<{ events?: EntryAnswer[] }>({
    method: "POST",
    path: `/v1/topics/${segment(topic)}/events`,
    raw: { text, contentType: BATCH_TYPE },
    ...(traceparent === undefined ? {} : { headers: { traceparent } }),
  });
  const answers = body?.events;
  if (!Array.isArray(answers) || answers.length !== unsent.length)
    throw clientError(
      "unexpected_response",
      `publish answered ${answers?.length ?? "no"} results for ${unsent.length} events`,
    );
  return answers;
}

function resultOf(answer: Exclude<EntryAnswer, { error: Problem }>): PublishResult {
  if ("scheduled" in answer)
    return {
      id: answer.id,
      offset: 0,
      duplicate: answer.duplicate,
      scheduled: true,
      deliverat: answer.deliverat,
    };
  const { id, offset, duplicate, subjectversion } = answer;
  return subjectversion === undefined
    ? { id, offset, duplicate }
    : { id, offset, duplicate, subjectVersion: subjectversion };
}

/**
 * A publish with `expectedVersion` (API.md "Event streams per subject"), sent on its own, never
 * merged into a batch: the condition is the request's. Retried only on answers that may
 * succeed later; a retry of an append that went through answers `duplicate` (dedupe runs
 * before the version check). A 409 `version_conflict` rejects, `problem.currentVersion` set.
 */
export async function publishConditional(
  http: HttpTransport,
  policy: RetryPolicy,
  topic: string,
  events: readonly OutgoingEvent[],
  expectedVersion: number,
): Promise<PublishResult[]> {
  const text = `[${events.map((event) => event.json).join(",")}]`;
  for (let retries = 0; ; ) {
    try {
      const { body } = await http.request<{ events?: EntryAnswer[] }>({
        method: "POST",
        path: `/v1/topics/${segment(topic)}/events`,
        query: { expectedVersion },
        raw: { text, contentType: BATCH_TYPE },
      });
      const answers = body?.events;
      if (!Array.isArray(answers) || answers.length !== events.length)
        throw clientError("unexpected_response", "publish answered the wrong number of results");
      return answers.map((answer) => {
        if ("error" in answer)
          throw new SwitchyardClientError(
            isProblem(answer.error) ? answer.error : unknownProblem(),
          );
        return resultOf(answer);
      });
    } catch (error) {
      const failure = asClientError(error);
      if (!failure.retryable || retries >= policy.retries) throw failure;
      await sleep(retryDelay(++retries, policy, failure));
    }
  }
}

/** Records each answer; returns the entries worth another try (retryable per-event errors). */
function settleAnswers(
  answers: readonly EntryAnswer[],
  unsent: readonly number[],
  outcomes: Outcome[],
): number[] {
  const again: number[] = [];
  for (let i = 0; i < unsent.length; i++) {
    const entry = unsent[i] as number;
    const answer = answers[i];
    if (answer === undefined) continue;
    if ("error" in answer) {
      const error = new SwitchyardClientError(
        isProblem(answer.error) ? answer.error : unknownProblem(),
      );
      outcomes[entry] = error;
      if (isRetryable(error)) again.push(entry);
    } else {
      outcomes[entry] = resultOf(answer);
    }
  }
  return again;
}

/**
 * A rejected batch fails the events its `errors` point at (`/3/type` is event 3) and returns
 * the others to be sent again: one bad event must not sink the events batched beside it. When
 * the errors point at no particular event, every event fails with the router's problem.
 */
function failPointedEvents(
  failure: SwitchyardClientError,
  unsent: readonly number[],
  outcomes: Outcome[],
): number[] {
  const byPosition = new Map<number, FieldError[]>();
  for (const fieldError of failure.errors) {
    const match = /^\/(\d+)(\/.*)?$/.exec(fieldError.pointer);
    const position = match ? Number(match[1]) : Number.NaN;
    if (!(position < unsent.length)) {
      for (const entry of unsent) outcomes[entry] = failure;
      return [];
    }
    const list = byPosition.get(position) ?? [];
    list.push({ pointer: match?.[2] ?? "", message: fieldError.message });
    byPosition.set(position, list);
  }
  if (byPosition.size === 0) {
    for (const entry of unsent) outcomes[entry] = failure;
    return [];
  }
  const rest: number[] = [];
  unsent.forEach((entry, position) => {
    const errors = byPosition.get(position);
    if (errors) outcomes[entry] = eventError(failure, errors);
    else rest.push(entry);
  });
  return rest;
}

function eventError(failure: SwitchyardClientError, errors: FieldError[]): SwitchyardClientError {
  const detail = errors.map((e) => `${e.pointer || "event"}: ${e.message}`).join("; ");
  return new SwitchyardClientError({ ...failure.problem, detail, errors });
}

function asClientError(error: unknown): SwitchyardClientError {
  if (error instanceof SwitchyardClientError) return error;
  return clientError("unexpected_response", String(error), { cause: error });
}

function lostError(event: OutgoingEvent): SwitchyardClientError {
  return clientError("unexpected_response", `event ${event.id} was not answered`);
}

function unknownProblem(): Problem {
  return { status: 500, code: "internal", detail: "the router reported an unspecified error" };
}
