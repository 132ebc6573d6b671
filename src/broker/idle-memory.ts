/**
 * Gives memory back once the router has been quiet for a while. A burst (a few hundred
 * thousand publishes and deliveries) grows V8's young generation to its maximum (128 MiB on
 * Node 24 without pointer compression) and nothing shrinks it afterwards: V8 resizes it only
 * at a garbage collection, and an idle router allocates too little to trigger one, so it sat
 * at ~380 MiB RSS long after the burst (docs/benchmarks.md, "The cost of scale"). A regular
 * collection shrinks it only when V8's estimate of the allocation rate happens to be low, and
 * keeps the freed pages pooled (resident); a memory-reducing one ("last resort") shrinks the
 * young generation and releases the pool every time (~150 MiB back after such a burst).
 *
 * Quiet is read from the event loop's utilisation, whatever kept it busy (HTTP, WebSocket
 * streams, push deliveries, timers): a collection is run once per quiet period, after
 * `quietSamples` consecutive samples below `busyBelow`, and the next one only after the loop
 * was busy again. Never on the hot path: a busy router is never collected by this.
 */
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface IdleMemoryOptions {
  /** How often the event loop's utilisation is sampled; default 2500 ms. */
  readonly sampleMs?: number;
  /** Consecutive quiet samples before a collection; default 3 (7.5 s). */
  readonly quietSamples?: number;
  /**
   * A sample is quiet below this utilisation (0–1); default 0.05. An idle router with 1,000
   * subscriptions still runs its periodic passes (push reconcile, retention), which on a
   * machine short of CPU stretch to a few percent of a sample; a busy one is at 30–100%.
   */
  readonly busyBelow?: number;
  /** Called after each collection (tests, diagnostics). */
  readonly onRelease?: () => void;
}

/** V8's `gc` (its GC extension); "last-resort" is the memory-reducing full collection. */
type Collect = (options?: { readonly type: "major"; readonly flavor: "last-resort" }) => void;

let collector: Collect | undefined;

/**
 * V8's `gc` without starting Node with `--expose-gc`: the flag is turned on just long enough
 * for a fresh context to get the function (as Jest's leak detector does), then off again, so
 * no other context sees a `gc` global.
 */
function collectGarbage(): Collect {
  if (collector !== undefined) return collector;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === "function") {
    collector = own as Collect;
    return collector;
  }
  setFlagsFromString("--expose-gc");
  try {
    collector = runInNewContext("gc") as Collect;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
  return collector;
}

export class IdleMemory {
  readonly #timer: NodeJS.Timeout;
  readonly #quietSamples: number;
  readonly #sampleMs: number;
  readonly #busyBelow: number;
  readonly #onRelease: (() => void) | undefined;
  readonly #collect: Collect;
  #last = performance.eventLoopUtilization();
  #quiet = 0;
  #released = false;

  constructor(options: IdleMemoryOptions = {}) {
    this.#quietSamples = options.quietSamples ?? 3;
    this.#sampleMs = options.sampleMs ?? 2_500;
    this.#busyBelow = options.busyBelow ?? 0.05;
    this.#onRelease = options.onRelease;
    this.#collect = collectGarbage();
    this.#timer = setInterval(() => this.#sample(), this.#sampleMs);
    this.#timer.unref();
  }

  #sample(): void {
    const now = performance.eventLoopUtilization();
    const since = performance.eventLoopUtilization(now, this.#last);
    // A tick that follows a late one (after the collection, or a long task) covers a sliver of
    // time whose ratio means nothing: it waits for the next.
    if (since.idle + since.active < this.#sampleMs / 2) return;
    this.#last = now;
    const busy = since.utilization;
    if (busy >= this.#busyBelow) {
      this.#quiet = 0;
      this.#released = false;
      return;
    }
    this.#quiet++;
    if (this.#released || this.#quiet < this.#quietSamples) return;
    this.#released = true;
    this.#collect({ type: "major", flavor: "last-resort" });
    // The collection's own time is not the router being busy again.
    this.#last = performance.eventLoopUtilization();
    this.#onRelease?.();
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
