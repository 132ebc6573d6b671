export interface BatchLimits {
  /**
   * How long an item waits for company before a batch that is not full is sent; 0: no timer,
   * the batch goes once the current event-loop turn's work is done (see #schedule).
   */
  readonly lingerMs: number;
  /** A batch holds at most this many items... */
  readonly maxItems: number;
  /** ...and at most this many bytes (an item larger than this goes alone). */
  readonly maxBytes: number;
  /** Batches of one lane in flight at once (their commits can share an fsync on the router). */
  readonly maxInFlight: number;
}

/** Taken items before the queue's head are dropped once they are this many and half of it. */
const COMPACT_AFTER = 1_024;

export interface BatchItem {
  readonly bytes: number;
  /** Items with one key reach the router in the order they were added; null: no order. */
  readonly key: string | null;
}

/** Sends one batch; answers one result or Error per item, in order. */
export type BatchSender<I, R> = (
  lane: string,
  items: readonly I[],
) => Promise<readonly (R | Error)[]>;

interface Waiting<I, R> {
  readonly item: I;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

interface Lane<I, R> {
  /** Items waiting are `queue[head..]`: taking a batch moves `head`, not the rest of the queue. */
  queue: Waiting<I, R>[];
  head: number;
  bytes: number;
  /** Cancels the pending linger (a timer, or an immediate under linger 0). */
  timer: (() => void) | undefined;
  inFlight: number;
  /** Keys with an item in a batch in flight, and how many such batches. */
  readonly busyKeys: Map<string, number>;
}

/**
 * Groups items per lane (a topic) into batches. Up to `maxInFlight` batches of a lane are in
 * flight at once, but never two holding the same key: an item whose key is in flight waits,
 * so items of one key reach the router in the order they were added, retries included. A
 * lone item waits `lingerMs` for company; a busy lane sends full batches back to back.
 */
export class Batcher<I extends BatchItem, R> {
  readonly #limits: BatchLimits;
  readonly #send: BatchSender<I, R>;
  readonly #lanes = new Map<string, Lane<I, R>>();
  #pending = 0;
  #drained: (() => void)[] = [];

  constructor(limits: BatchLimits, send: BatchSender<I, R>) {
    this.#limits = limits;
    this.#send = send;
  }

  /** Items added and not yet answered. */
  get pending(): number {
    return this.#pending;
  }

  /** Queues the items in order (in one lane, so none of them can overtake another of its key). */
  add(laneName: string, items: readonly I[]): Promise<R>[] {
    const lane = this.#lane(laneName);
    const promises = items.map((item) => this.#enqueue(lane, item));
    this.#pending += items.length;
    this.#schedule(laneName, lane);
    return promises;
  }

  /** `add` of one item, without the arrays: the common publish is one event per call. */
  addOne(laneName: string, item: I): Promise<R> {
    const lane = this.#lane(laneName);
    const promise = this.#enqueue(lane, item);
    this.#pending++;
    this.#schedule(laneName, lane);
    return promise;
  }

  #enqueue(lane: Lane<I, R>, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      lane.queue.push({ item, resolve, reject });
      lane.bytes += item.bytes;
    });
  }

  /** Sends everything queued now and resolves when every item added so far is answered. */
  flush(): Promise<void> {
    for (const [name, lane] of this.#lanes) this.#start(name, lane);
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #lane(name: string): Lane<I, R> {
    let lane = this.#lanes.get(name);
    if (!lane) {
      lane = { queue: [], head: 0, bytes: 0, timer: undefined, inFlight: 0, busyKeys: new Map() };
      this.#lanes.set(name, lane);
    }
    return lane;
  }

  #schedule(name: string, lane: Lane<I, R>): void {
    const queued = lane.queue.length - lane.head;
    if (queued === 0) return;
    const full = queued >= this.#limits.maxItems || lane.bytes >= this.#limits.maxBytes;
    if (full) this.#start(name, lane);
    else lane.timer ??= this.#linger(() => this.#start(name, lane));
  }

  /**
   * Linger 0 is an immediate, not setTimeout(0) (at least 1 ms in Node): the batch leaves
   * once this event-loop turn is done, so what the turn published, a synchronous loop or
   * handlers resumed by the same I/O, still shares one request, without waiting a timer.
   */
  #linger(run: () => void): () => void {
    if (this.#limits.lingerMs <= 0) {
      const immediate = setImmediate(run);
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(run, this.#limits.lingerMs);
    return () => clearTimeout(timer);
  }

  /** Sends batches while there are free slots and sendable items. */
  #start(name: string, lane: Lane<I, R>): void {
    lane.timer?.();
    lane.timer = undefined;
    while (lane.inFlight < this.#limits.maxInFlight && lane.queue.length > lane.head) {
      const batch = this.#take(lane);
      if (batch.length === 0) return; // every queued item waits for its key
      lane.inFlight++;
      for (const key of keysOf(batch)) lane.busyKeys.set(key, (lane.busyKeys.get(key) ?? 0) + 1);
      void this.#dispatch(name, lane, batch);
    }
  }

  /**
   * The first items in queue order that fit, passing over (and keeping, in order) those whose
   * key is in flight, and any later item of a key that already had one passed over.
   */
  #take(lane: Lane<I, R>): Waiting<I, R>[] {
    const batch: Waiting<I, R>[] = [];
    const rest: Waiting<I, R>[] = [];
    const passedOver = new Set<string>();
    let bytes = 0;
    let at = lane.head;
    for (; at < lane.queue.length && batch.length < this.#limits.maxItems; at++) {
      const waiting = lane.queue[at] as Waiting<I, R>;
      const { key } = waiting.item;
      const blocked = key !== null && (lane.busyKeys.has(key) || passedOver.has(key));
      const fits = batch.length === 0 || bytes + waiting.item.bytes <= this.#limits.maxBytes;
      if (blocked || !fits) {
        if (key !== null) passedOver.add(key);
        rest.push(waiting);
        continue;
      }
      batch.push(waiting);
      bytes += waiting.item.bytes;
    }
    // The passed-over items go back just before `at`, in order, where the queue now starts.
    lane.head = at - rest.length;
    for (let i = 0; i < rest.length; i++) lane.queue[lane.head + i] = rest[i] as Waiting<I, R>;
    if (lane.head === lane.queue.length) {
      lane.queue = [];
      lane.head = 0;
    } else if (lane.head > COMPACT_AFTER && lane.head * 2 > lane.queue.length) {
      lane.queue = lane.queue.slice(lane.head);
      lane.head = 0;
    }
    lane.bytes -= bytes;
    return batch;
  }

  async #dispatch(name: string, lane: Lane<I, R>, batch: Waiting<I, R>[]): Promise<void> {
    try {
      const results = await this.#send(
        name,
        batch.map((w) => w.item),
      );
      batch.forEach((waiting, i) => {
        const result = results[i];
        if (result instanceof Error) waiting.reject(result);
        else if (result === undefined)
          waiting.reject(new Error("the batch sender answered too few results"));
        else waiting.resolve(result);
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
    lane.inFlight--;
    for (const key of keysOf(batch)) {
      const left = (lane.busyKeys.get(key) ?? 1) - 1;
      if (left > 0) lane.busyKeys.set(key, left);
      else lane.busyKeys.delete(key);
    }
    this.#answered(batch.length);
    // Whatever queued meanwhile has already waited part of a round trip: send it now.
    if (lane.queue.length > lane.head) this.#start(name, lane);
    else if (lane.inFlight === 0) this.#lanes.delete(name);
  }

  #answered(count: number): void {
    this.#pending -= count;
    if (this.#pending > 0) return;
    const drained = this.#drained;
    this.#drained = [];
    for (const resolve of drained) resolve();
  }
}

function keysOf<I extends BatchItem, R>(batch: readonly Waiting<I, R>[]): Set<string> {
  const keys = new Set<string>();
  for (const waiting of batch) if (waiting.item.key !== null) keys.add(waiting.item.key);
  return keys;
}
