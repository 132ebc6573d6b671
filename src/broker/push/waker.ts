/**
 * Lets a loop sleep until a deadline or until something it waits for happens (a delivery
 * finished, the config changed, stop). A wake with nobody asleep is remembered once, so a
 * wake between "nothing to do" and "sleep" is never lost.
 */
export class Waker {
  #sleepers: (() => void)[] = [];
  #pending = false;

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers = this.#sleepers.filter((s) => s !== done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
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
