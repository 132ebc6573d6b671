export interface BatchLimits {
  /** How long the first item of an idle lane waits for company before it is sent. */
  readonly lingerMs: number;
  /** A batch holds at most this many items... */
  readonly maxItems: number;
  /** ...and at most this many bytes (an item larger than this goes alone). */
  readonly maxBytes: number;
}

export interface BatchItem {
  readonly bytes: number;
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
  readonly queue: Waiting<I, R>[];
  bytes: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  sending: boolean;
}

/**
 * Groups items per lane (a topic) into batches. One batch per lane is in flight at a time, so
 * a lane's items reach the router in the order they were added, retries included. While a
 * batch is in flight the next one fills up, so batch size follows the router's speed: a lone
 * item waits `lingerMs`, a busy lane sends full batches back to back.
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

  /** Queues the items in order (in one lane, so none of them can overtake another). */
  add(laneName: string, items: readonly I[]): Promise<R>[] {
    const lane = this.#lane(laneName);
    const promises = items.map(
      (item) =>
        new Promise<R>((resolve, reject) => {
          lane.queue.push({ item, resolve, reject });
          lane.bytes += item.bytes;
        }),
    );
    this.#pending += items.length;
    this.#schedule(laneName, lane);
    return promises;
  }

  /** Sends everything queued now and resolves when every item added so far is answered. */
  flush(): Promise<void> {
    for (const [name, lane] of this.#lanes) if (!lane.sending) this.#start(name, lane);
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #lane(name: string): Lane<I, R> {
    let lane = this.#lanes.get(name);
    if (!lane) {
      lane = { queue: [], bytes: 0, timer: undefined, sending: false };
      this.#lanes.set(name, lane);
    }
    return lane;
  }

  #schedule(name: string, lane: Lane<I, R>): void {
    if (lane.sending || lane.queue.length === 0) return;
    const full = lane.queue.length >= this.#limits.maxItems || lane.bytes >= this.#limits.maxBytes;
    if (full) this.#start(name, lane);
    else lane.timer ??= setTimeout(() => this.#start(name, lane), this.#limits.lingerMs);
  }

  #start(name: string, lane: Lane<I, R>): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    if (lane.queue.length === 0) return;
    lane.sending = true;
    void this.#dispatch(name, lane, this.#take(lane));
  }

  #take(lane: Lane<I, R>): Waiting<I, R>[] {
    let count = 0;
    let bytes = 0;
    for (const waiting of lane.queue) {
      const fits = bytes + waiting.item.bytes <= this.#limits.maxBytes;
      if (count >= this.#limits.maxItems || (count > 0 && !fits)) break;
      count++;
      bytes += waiting.item.bytes;
    }
    lane.bytes -= bytes;
    return lane.queue.splice(0, count);
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
    lane.sending = false;
    this.#answered(batch.length);
    // Whatever queued meanwhile has already waited a whole round trip: send it now.
    if (lane.queue.length > 0) this.#start(name, lane);
    else this.#lanes.delete(name);
  }

  #answered(count: number): void {
    this.#pending -= count;
    if (this.#pending > 0) return;
    const drained = this.#drained;
    this.#drained = [];
    for (const resolve of drained) resolve();
  }
}
