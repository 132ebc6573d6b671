import type { Clock } from "../../core/clock.js";

/**
 * Lets a loop sleep until a deadline or until something it waits for happens (a delivery
 * finished, the config changed, stop). A wake with nobody asleep is remembered once, so a
 * wake between "nothing to do" and "sleep" is never lost. Sleeps run on the clock: the
 * deadlines slept for (a circuit's cool-down, the rate limit's next token) are its time.
 */
export class Waker {
  readonly #clock: Clock;
  #sleepers: (() => void)[] = [];
  #pending = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        timer.cancel();
        this.#sleepers = this.#sleepers.filter((s) => s !== done);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, ms);
      this.#sleepers.push(done);
    });
  }

  wake(): void {
    if (this.#sleepers.length === 0) {
      this.#pending = true;
      return;
    }
    for (const sleeper of [...this.#sleepers]) sleeper();
  }
}
