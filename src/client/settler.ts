import type { Admin } from "./admin.js";
import type { SettleOp, Settler } from "./delivery.js";
import { type Problem, SwitchyardClientError } from "./errors.js";
import type { SettleResult, SettleStatus } from "./resources.js";
import { DEFAULT_RETRY, withRetry } from "./retry.js";
import type { ClientFrame, SettleFrame } from "./stream.js";

interface Pending {
  readonly ackId: string;
  readonly op: SettleOp;
  readonly resolve: (status: SettleStatus) => void;
  readonly reject: (error: unknown) => void;
}

export interface FrameSink {
  /** False when the socket is not open (nothing was sent). */
  send(frame: ClientFrame): boolean;
}

/**
 * Settles deliveries over the stream, coalescing everything settled in one turn of the event
 * loop into one frame per kind; each frame carries an id its `results` frame echoes. When the
 * socket is down (or the answer does not come within `timeoutMs`, or the socket drops before
 * it does) the same settles go over HTTP instead: ackIds are valid on any connection, and
 * settling twice is harmless (the second answers `unknown`).
 */
export class StreamSettler implements Settler {
  readonly #sink: FrameSink;
  readonly #admin: Admin;
  readonly #subscription: string;
  readonly #timeoutMs: number;
  #queued: Pending[] = [];
  #scheduled = false;
  /** Sent over the socket, waiting for the `results` frame with the same id. */
  readonly #awaiting = new Map<number, Pending[]>();
  #nextFrameId = 1;
  #unanswered = 0;
  #idle: (() => void)[] = [];
  #afterFlush: (() => void)[] = [];

  constructor(sink: FrameSink, admin: Admin, subscription: string, timeoutMs: number) {
    this.#sink = sink;
    this.#admin = admin;
    this.#subscription = subscription;
    this.#timeoutMs = timeoutMs;
  }

  settle(ackId: string, op: SettleOp): Promise<SettleStatus> {
    return new Promise((resolve, reject) => {
      this.#unanswered++;
      this.#queued.push({ ackId, op, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  /**
   * Runs `then` right after the settle frames of this turn are sent, when some are queued
   * (answers true); answers false when none are, and nothing is scheduled.
   */
  afterFlush(then: () => void): boolean {
    if (!this.#scheduled) return false;
    this.#afterFlush.push(then);
    return true;
  }

  /** A `results` frame arrived: answers the settles of the frame it names. */
  onResults(frameId: unknown, results: readonly SettleResult[]): void {
    const group = this.#claim(frameId);
    if (!group) return;
    const byId = new Map(results.map((r) => [r.ackId, r.status]));
    for (const pending of group) this.#answer(pending, byId.get(pending.ackId) ?? "unknown");
  }

  /**
   * An `error` frame arrived. When it answers one of our settle frames, a problem that may pass
   * (5xx) is tried again over HTTP and any other fails those settles; answers whether it did.
   */
  onError(frameId: unknown, problem: Problem): boolean {
    const group = this.#claim(frameId);
    if (!group) return false;
    const error = new SwitchyardClientError(problem);
    if (error.retryable) this.#overHttp(group);
    else for (const pending of group) this.#fail(pending, error);
    return true;
  }

  /** The socket dropped: whatever it had not answered goes over HTTP. */
  onDisconnect(): void {
    const orphans = [...this.#awaiting.values()].flat();
    this.#awaiting.clear();
    this.#overHttp(orphans);
  }

  /** Resolves when every settle so far is answered, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.#unanswered === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queued;
    this.#queued = [];
    for (const group of groupByFrame(batch).values()) {
      const first = group[0];
      if (!first) continue;
      const id = this.#nextFrameId++;
      const frame = frameFor(
        first.op,
        id,
        group.map((p) => p.ackId),
      );
      if (this.#sink.send(frame)) this.#awaitSocket(id, group);
      else this.#overHttp(group);
    }
    const after = this.#afterFlush;
    this.#afterFlush = [];
    for (const then of after) then();
  }

  #awaitSocket(id: number, group: Pending[]): void {
    this.#awaiting.set(id, group);
    const timer = setTimeout(() => {
      const late = this.#claim(id);
      if (late) this.#overHttp(late);
    }, this.#timeoutMs);
    timer.unref();
  }

  #claim(frameId: unknown): Pending[] | undefined {
    if (typeof frameId !== "number") return undefined;
    const group = this.#awaiting.get(frameId);
    this.#awaiting.delete(frameId);
    return group;
  }

  #overHttp(pendings: Pending[]): void {
    for (const group of groupByFrame(pendings).values()) void this.#sendHttp(group);
  }

  async #sendHttp(group: Pending[]): Promise<void> {
    const first = group[0];
    if (!first) return;
    const ackIds = group.map((p) => p.ackId);
    try {
      const results = await withRetry(() => this.#call(first.op, ackIds), DEFAULT_RETRY);
      const byId = new Map(results.map((r) => [r.ackId, r.status]));
      for (const pending of group) this.#answer(pending, byId.get(pending.ackId) ?? "unknown");
    } catch (error) {
      for (const pending of group) this.#fail(pending, error);
    }
  }

  #call(op: SettleOp, ackIds: string[]): Promise<SettleResult[]> {
    const name = this.#subscription;
    if (op.type === "ack") return this.#admin.ack(name, ackIds);
    if (op.type === "extend") return this.#admin.extend(name, ackIds, op.leaseMs);
    if (op.type === "reject") return this.#admin.reject(name, ackIds, op.reason);
    return this.#admin.nack(name, ackIds, op.delayMs);
  }

  #answer(pending: Pending, status: SettleStatus): void {
    pending.resolve(status);
    this.#done();
  }

  #fail(pending: Pending, error: unknown): void {
    pending.reject(error);
    this.#done();
  }

  #done(): void {
    this.#unanswered--;
    if (this.#unanswered > 0) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const wake of idle) wake();
  }
}

function frameKey(op: SettleOp): string {
  if (op.type === "nack") return `nack:${op.delayMs ?? ""}`;
  if (op.type === "extend") return `extend:${op.leaseMs ?? ""}`;
  if (op.type === "reject") return `reject:${op.reason}`;
  return op.type;
}

function groupByFrame(pendings: readonly Pending[]): Map<string, Pending[]> {
  const groups = new Map<string, Pending[]>();
  for (const pending of pendings) {
    const key = frameKey(pending.op);
    const group = groups.get(key) ?? [];
    group.push(pending);
    groups.set(key, group);
  }
  return groups;
}

function frameFor(op: SettleOp, id: number, ackIds: readonly string[]): SettleFrame {
  if (op.type === "nack")
    return op.delayMs === undefined
      ? { type: "nack", id, ackIds }
      : { type: "nack", id, ackIds, delayMs: op.delayMs };
  if (op.type === "extend")
    return op.leaseMs === undefined
      ? { type: "extend", id, ackIds }
      : { type: "extend", id, ackIds, leaseMs: op.leaseMs };
  if (op.type === "reject") return { type: "reject", id, ackIds, reason: op.reason };
  return { type: op.type, id, ackIds };
}
