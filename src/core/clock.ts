/**
 * Time, injected wherever broker or engine logic depends on it, so tests can control it: the
 * reading (`now`) and the timers that wait for a moment of that time (lease expiries, backoff,
 * push retries, sweeps, retention). Timers that bound real I/O (request timeouts, a long
 * poll's wait, write batching) stay on Node's own timers: they measure the machine, not the
 * store's time.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once, `ms` of this clock's time from now (negative counts as 0). */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Runs `fn` every `ms` of this clock's time until cancelled. */
  setInterval(fn: () => void, ms: number): Timer;
}

/** What code that only reads the time needs (stamps, expiries, windows): no timers. */
export type TimeSource = Pick<Clock, "now">;

export interface Timer {
  /** Stops the timer; a no-op once it fired (one-shot) or was cancelled. */
  cancel(): void;
  /** Lets the process exit while the timer is pending (where a process is involved); returns the timer. */
  unref(): Timer;
}

/** Node's longest timer delay; a longer one would fire at once. */
const MAX_DELAY_MS = 2_147_483_647;

const delayOf = (ms: number): number => Math.min(Math.max(0, ms), MAX_DELAY_MS);

function nodeTimer(handle: NodeJS.Timeout, clear: (handle: NodeJS.Timeout) => void): Timer {
  const timer: Timer = {
    cancel: () => clear(handle),
    unref: () => {
      handle.unref();
      return timer;
    },
  };
  return timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => nodeTimer(setTimeout(fn, delayOf(ms)), clearTimeout),
  setInterval: (fn, ms) => nodeTimer(setInterval(fn, delayOf(ms)), clearInterval),
};
