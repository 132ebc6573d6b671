/**
 * A clock that moves only when told to. `advance(ms)` walks time forward timer by timer, in
 * due order, and after each one yields to the event loop so the async work the timer started
 * (a sweep's commit, a lease the wake-up let through, the settle after it) runs before the
 * next timer fires, as it would have with real time between them.
 */
import type { Clock, Timer } from "../core/clock.js";

export interface ManualClockOptions {
  /** Milliseconds since the epoch it starts at; default the real time at construction. */
  readonly start?: number;
  /**
   * Event-loop turns `advance` yields after each timer it fires (and before the first), so
   * the commits and wake-ups that timer started can settle; default 20. Work that waits on
   * real I/O (an HTTP request, a WebSocket frame) may take longer: wait for its outcome.
   */
  readonly settleTurns?: number;
}

interface Scheduled {
  at: number;
  readonly seq: number;
  readonly fn: () => void;
  /** Interval period; null for a one-shot timer. */
  readonly every: number | null;
}

// Taken at load: a test that later fakes the global timers must not stall `advance`.
const realSetImmediate = globalThis.setImmediate;
const turn = (): Promise<void> => new Promise((resolve) => realSetImmediate(resolve));

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<Scheduled>();
  readonly #settleTurns: number;
  #advancing: Promise<void> = Promise.resolve();

  constructor(options: ManualClockOptions = {}) {
    this.#now = options.start ?? Date.now();
    this.#settleTurns = options.settleTurns ?? 20;
  }

  now(): number {
    return this.#now;
  }

  /** A timer due now or earlier (`ms` ≤ 0) runs on the next event-loop turn, without `advance`. */
  setTimeout(fn: () => void, ms: number): Timer {
    if (!(ms > 0)) return this.#soon(fn);
    return this.#add(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): Timer {
    const every = Math.max(1, Number.isFinite(ms) ? ms : 1);
    return this.#add(fn, every, every);
  }

  /** Timers waiting for time to pass. */
  get pending(): number {
    return this.#timers.size;
  }

  /** When the earliest waiting timer is due, or null when none waits. */
  nextAt(): number | null {
    return this.#earliest(Number.POSITIVE_INFINITY)?.at ?? null;
  }

  /**
   * Moves time `ms` forward, firing every timer that falls due on the way in due order (ties
   * in the order they were set), each at its own moment, with the work it starts settled in
   * between; resolves once the last has settled. An interval fires once between two other
   * timers however many periods lie between them (see `#collapse`). Calls made while one runs
   * queue behind it. A timer that throws rejects the call; the timers after it stay pending.
   */
  advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms))
      return Promise.reject(new RangeError(`advance: ms must be a finite number >= 0, got ${ms}`));
    const run = this.#advancing.then(() => this.#advance(ms));
    this.#advancing = run.catch(() => undefined);
    return run;
  }

  async #advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await this.#settle(); // work already under way sets its timers first
    for (;;) {
      const next = this.#earliest(target);
      if (next === undefined) break;
      if (next.every !== null) this.#collapse(next, target);
      this.#now = Math.max(this.#now, next.at);
      if (next.every === null) this.#timers.delete(next);
      else next.at += next.every;
      next.fn();
      await this.#settle();
    }
    this.#now = target;
  }

  /**
   * Periods of an interval with no other timer due between them collapse into one, at the
   * last of them (as Node's own intervals skip the periods a busy event loop missed): a jump
   * of a week fires a 30-second retention timer once, not 20,160 times.
   */
  #collapse(interval: Scheduled, target: number): void {
    const every = interval.every ?? 0;
    const other = this.#earliest(target, interval);
    const periods =
      other === undefined
        ? Math.floor((target - interval.at) / every)
        : Math.ceil((other.at - interval.at) / every) - 1;
    if (periods > 0) interval.at += periods * every;
  }

  async #settle(): Promise<void> {
    for (let i = 0; i < this.#settleTurns; i++) await turn();
  }

  #earliest(until: number, except?: Scheduled): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const timer of this.#timers) {
      if (timer.at > until || timer === except) continue;
      if (
        best === undefined ||
        timer.at < best.at ||
        (timer.at === best.at && timer.seq < best.seq)
      )
        best = timer;
    }
    return best;
  }

  #add(fn: () => void, ms: number, every: number | null): Timer {
    const scheduled: Scheduled = { at: this.#now + ms, seq: this.#seq++, fn, every };
    this.#timers.add(scheduled);
    return handle(() => this.#timers.delete(scheduled));
  }

  #soon(fn: () => void): Timer {
    let cancelled = false;
    realSetImmediate(() => {
      if (!cancelled) fn();
    });
    return handle(() => {
      cancelled = true;
    });
  }
}

function handle(cancel: () => void): Timer {
  const timer: Timer = { cancel, unref: () => timer };
  return timer;
}
