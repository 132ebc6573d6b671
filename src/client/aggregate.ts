import type { CloudEvent, StoredEvent } from "../core/event.js";
import { isTopicName } from "../core/names.js";
import { clientError, SwitchyardClientError } from "./errors.js";
import type { PublishResult } from "./publish-sender.js";
import type { EventInput } from "./publisher.js";
import { sleep } from "./retry.js";
import type { SnapshotStore } from "./snapshot-store.js";

/** What `decide` is told besides the command and the state. */
export interface DecideContext {
  readonly subject: string;
  /** The stream's version the state was folded to; the append expects it. */
  readonly version: number;
}

/** What `decide` answers: the events to append, in order (`[]`: nothing to do). */
export type Decision = EventInput | readonly EventInput[];

export interface SnapshotOptions<S> {
  readonly store: SnapshotStore<S>;
  /** Save a snapshot when a handled command takes the version past a multiple of this. */
  readonly every: number;
}

export interface AggregateOptions<S, C> {
  /** A topic indexed by `subject`; each subject is one instance's stream. */
  readonly topic: string;
  /** The state before any event; a function when `evolve` mutates (a fresh state per load). */
  readonly initialState: S | (() => S);
  readonly evolve: (state: S, event: StoredEvent) => S;
  /** Throw to refuse the command: nothing is appended and `handle` rejects with that error. */
  readonly decide: (command: C, state: S, context: DecideContext) => Decision | Promise<Decision>;
  /** Decisions tried in all when appends meet `version_conflict` (default 5). */
  readonly maxAttempts?: number;
  /** States are saved as JSON: they must come back from `JSON.parse` as `evolve` expects. */
  readonly snapshots?: SnapshotOptions<S>;
}

export interface Folded<S> {
  readonly state: S;
  /** The version of the last event folded into `state` (0: none). */
  readonly version: number;
}

export interface HandleResult<S> extends Folded<S> {
  /** One per decided event, in order (on NATS, fewer when a repeat ended the decision). */
  readonly events: PublishResult[];
  /**
   * True when the router already had (some of) the decision's events: a request whose
   * answer was lost and was sent again, or ids of your own that an earlier decision used.
   */
  readonly duplicate: boolean;
}

/** An event-sourced entity type on one topic (docs/event-sourcing.md "Aggregates"). */
export interface Aggregate<S, C> {
  readonly topic: string;
  /** Folds the subject's stream (from the latest snapshot, when there is one). */
  load(subject: string): Promise<Folded<S>>;
  /**
   * Loads, decides, and appends the decision at the loaded version; on `version_conflict`
   * loads and decides again, up to `maxAttempts` decisions in all.
   */
  handle(subject: string, command: C): Promise<HandleResult<S>>;
}

/** The part of a subject read the aggregate uses (the client's `SubjectPage` fits). */
export interface StreamPage {
  readonly events: readonly StoredEvent[];
  readonly version: number;
  readonly firstVersion: number;
}

/** What an aggregate needs of its client. */
export interface AggregateTransport {
  readSubject(
    topic: string,
    subject: string,
    options: { fromVersion: number; limit: number },
  ): Promise<StreamPage>;
  /** A publish with `expectedVersion`, sent on its own request. */
  publishAt(
    topic: string,
    events: readonly EventInput[],
    expectedVersion: number,
  ): Promise<PublishResult[]>;
  /** Whether the router's engine appends a batch atomically (`GET /v1/info`). */
  atomicBatch(): Promise<boolean>;
  /** The CloudEvent `publish` would send for `input` (defaults, correlation, trace context). */
  build(input: EventInput): CloudEvent;
}

const PAGE = 1_000;
const DEFAULT_MAX_ATTEMPTS = 5;

export function createAggregate<S, C>(
  transport: AggregateTransport,
  options: AggregateOptions<S, C>,
): Aggregate<S, C> {
  const { topic, evolve, decide, snapshots } = options;
  if (!isTopicName(topic))
    throw clientError(
      "invalid_name",
      `topic name ${JSON.stringify(topic)} must match [a-zA-Z0-9._-]{1,200}`,
    );
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)
    throw new TypeError(`maxAttempts must be a positive integer, not ${maxAttempts}`);
  if (snapshots && !(Number.isSafeInteger(snapshots.every) && snapshots.every >= 1))
    throw new TypeError(`snapshots.every must be a positive integer, not ${snapshots.every}`);
  const initial = (): S =>
    typeof options.initialState === "function"
      ? (options.initialState as () => S)()
      : options.initialState;

  /** Folds events after `from` until `until` (or the stream's end); `current` is the stream's version. */
  const fold = async (
    subject: string,
    from: Folded<S>,
    until = Number.POSITIVE_INFINITY,
  ): Promise<Folded<S> & { readonly current: number }> => {
    let { state, version } = from;
    for (;;) {
      const limit = Math.min(PAGE, until - version);
      const page = await transport.readSubject(topic, subject, { fromVersion: version + 1, limit });
      if (page.version <= version) return { state, version, current: page.version };
      if (version + 1 < page.firstVersion) throw retentionGap(topic, subject, version, page);
      for (const event of page.events) {
        state = evolve(state, event);
        version = event.subjectversion ?? version + 1;
      }
      if (page.events.length === 0 || version >= page.version || version >= until)
        return { state, version, current: page.version };
    }
  };

  /** The folded state, and the version of the snapshot it started from (0: none). */
  const loadFrom = async (subject: string): Promise<{ loaded: Folded<S>; base: number }> => {
    checkSubject(subject);
    const snapshot = snapshots ? await snapshots.store.load(topic, subject) : undefined;
    if (snapshot !== undefined) {
      const folded = await fold(subject, snapshot);
      // A snapshot beyond the stream (the topic was recreated) describes another stream.
      if (folded.current >= snapshot.version)
        return { loaded: { state: folded.state, version: folded.version }, base: snapshot.version };
    }
    const folded = await fold(subject, { state: initial(), version: 0 });
    return { loaded: { state: folded.state, version: folded.version }, base: 0 };
  };

  const append = (events: readonly CloudEvent[], expected: number) =>
    appendDecision(transport, topic, events, expected);

  /**
   * The decided events as stored, without reading them back: the router adds only `topic`,
   * `offset`, `subjectversion` (from its answer) and `appendedat`, here the time of the answer.
   */
  const foldSent = (
    loaded: Folded<S>,
    events: readonly CloudEvent[],
    results: readonly PublishResult[],
  ): Folded<S> => {
    const appendedat = new Date().toISOString();
    let { state, version } = loaded;
    events.forEach((event, i) => {
      const result = results[i] as PublishResult;
      version = result.subjectVersion ?? version + 1;
      state = evolve(state, {
        ...event,
        topic,
        offset: result.offset,
        appendedat,
        subjectversion: version,
      });
    });
    return { state, version };
  };

  const saveSnapshot = async (subject: string, after: Folded<S>): Promise<void> => {
    if (!snapshots) return;
    try {
      await snapshots.store.save(topic, subject, after.version, after.state);
    } catch (error) {
      // The decision is appended: failing `handle` now would invite the caller to send the
      // command again. The next crossing saves again.
      process.emitWarning(
        `switchyard: saving the snapshot of ${topic}/${subject} at version ${after.version} failed: ${String(error)}`,
        "SwitchyardSnapshotWarning",
      );
    }
  };

  /** The state once the decision is appended, saved as a snapshot when one is due. */
  const settle = async (
    subject: string,
    loaded: Folded<S>,
    base: number,
    events: readonly CloudEvent[],
    results: readonly PublishResult[],
  ): Promise<Folded<S>> => {
    const last = results.at(-1)?.subjectVersion ?? 0;
    // Versions at or below the loaded one: the whole decision was appended before this
    // load, and `loaded` already holds it.
    if (last <= loaded.version) return loaded;
    const snapshotDue = snapshots !== undefined && crossesMultiple(base, last, snapshots.every);
    if (!snapshotDue && results.length === events.length) return foldSent(loaded, events, results);
    // A snapshot is kept for good: it folds the stored events, as a load would.
    const after = stateOnly(await fold(subject, loaded, last));
    if (snapshotDue) await saveSnapshot(subject, after);
    return after;
  };

  return {
    topic,
    load: async (subject) => (await loadFrom(subject)).loaded,
    async handle(subject, command) {
      for (let attempt = 1; ; attempt++) {
        const { loaded, base } = await loadFrom(subject);
        const decided = await decide(command, loaded.state, { subject, version: loaded.version });
        const events = prepareDecision(decided, subject, transport.build);
        if (events.length === 0) return { ...loaded, events: [], duplicate: false };
        let results: PublishResult[];
        try {
          results = await append(events, loaded.version);
        } catch (error) {
          if (!isVersionConflict(error)) throw error;
          if (attempt >= maxAttempts) throw exhausted(error, maxAttempts);
          await sleep(conflictBackoffMs(attempt));
          continue;
        }
        const after = await settle(subject, loaded, base, events, results);
        return { ...after, events: results, duplicate: results.some((r) => r.duplicate) };
      }
    },
  };
}

/**
 * Appends at `expected`. With atomic batches (SQLite) the decision goes in one request;
 * without (NATS) one event at a time, each expecting the version the previous one made,
 * so a crash or a conflict part way leaves a prefix (a conflict then rejects with
 * `conflict`, not `version_conflict`: deciding again on top of the prefix would be wrong).
 */
export async function appendDecision(
  transport: AggregateTransport,
  topic: string,
  events: readonly CloudEvent[],
  expected: number,
): Promise<PublishResult[]> {
  if (events.length === 1 || (await transport.atomicBatch()))
    return transport.publishAt(topic, events, expected);
  const results: PublishResult[] = [];
  let at = expected;
  for (const event of events) {
    let result: PublishResult | undefined;
    try {
      [result] = await transport.publishAt(topic, [event], at);
    } catch (error) {
      if (results.length > 0 && isVersionConflict(error))
        throw partiallyAppended(error, results, events.length);
      throw error;
    }
    if (result === undefined) throw clientError("unexpected_response", "publish answered nothing");
    results.push(result);
    const version = result.subjectVersion ?? at + 1;
    // A repeat from before this decision's load: an earlier handling appended it all.
    if (result.duplicate && version <= expected) break;
    at = version;
  }
  return results;
}

/**
 * The decision as the CloudEvents to send: each on `subject` (an event naming another is
 * refused before anything is sent), built now, so its `id` (and `time`) are fixed before the
 * first send: a request sent again after a lost answer repeats these ids and the router
 * answers `duplicate`. Ids given by `decide` are kept: derived from the command, they make a
 * repeated command a duplicate too.
 */
export function prepareDecision(
  decided: Decision,
  subject: string,
  build: (input: EventInput) => CloudEvent,
): CloudEvent[] {
  const list: readonly unknown[] = Array.isArray(decided) ? decided : [decided];
  return list.map((event, i) => {
    if (typeof event !== "object" || event === null || Array.isArray(event))
      throw clientError(
        "invalid_event",
        `decide returned ${describe(event)} at ${i}, not an event`,
      );
    const input = event as EventInput;
    if (input.subject !== undefined && input.subject !== subject)
      throw clientError(
        "invalid_event",
        `decided event ${i} names subject ${JSON.stringify(input.subject)}, not the aggregate's ${JSON.stringify(subject)}`,
        { errors: [{ pointer: `/${i}/subject`, message: `must be ${JSON.stringify(subject)}` }] },
      );
    return build({ ...input, subject });
  });
}

/** Whether going from version `from` to `to` passes a multiple of `every`. */
export function crossesMultiple(from: number, to: number, every: number): boolean {
  return Math.floor(to / every) > Math.floor(from / every);
}

/** Full jitter over 5 ms doubling to 200 ms: concurrent handlers of one subject spread out. */
export function conflictBackoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(200, 5 * 2 ** (attempt - 1)));
}

function stateOnly<S>({ state, version }: Folded<S>): Folded<S> {
  return { state, version };
}

function checkSubject(subject: string): void {
  if (typeof subject !== "string" || subject === "")
    throw clientError("invalid_request", "an aggregate's subject must be a non-empty string");
}

function isVersionConflict(error: unknown): error is SwitchyardClientError {
  return error instanceof SwitchyardClientError && error.code === "version_conflict";
}

function exhausted(error: SwitchyardClientError, attempts: number): SwitchyardClientError {
  return new SwitchyardClientError(
    {
      ...error.problem,
      detail: `${error.message} (still conflicting after ${attempts} decisions)`,
    },
    { cause: error },
  );
}

function partiallyAppended(
  error: SwitchyardClientError,
  appended: readonly PublishResult[],
  total: number,
): SwitchyardClientError {
  return new SwitchyardClientError(
    {
      status: 409,
      code: "conflict",
      title: "Conflict",
      detail: `${appended.length} of the decision's ${total} events were appended before another writer's event (one at a time, the engine has no atomic batches): not decided again`,
      appended,
      currentVersion: error.problem.currentVersion,
    },
    { cause: error },
  );
}

function retentionGap(
  topic: string,
  subject: string,
  version: number,
  page: StreamPage,
): SwitchyardClientError {
  return new SwitchyardClientError({
    status: 409,
    code: "conflict",
    title: "Conflict",
    detail: `the stream of ${topic}/${subject} starts at version ${page.firstVersion} (retention removed the events before): it cannot be folded from version ${version + 1}`,
    firstVersion: page.firstVersion,
  });
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}
