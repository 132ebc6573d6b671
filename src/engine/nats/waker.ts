/** A latch that waiters await and notifiers trip; a notify with nobody waiting is kept. */
export class Waker {
  #notified = false;
  #waiters: (() => void)[] = [];

  notify = (): void => {
    this.#notified = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  };

  /** Resolves at the next notify (or at once if one came since the last wait), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.#notified) {
      this.#notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#waiters = self.#waiters.filter((w) => w !== done);
        self.#notified = false;
        resolve();
      }
      this.#waiters.push(done);
    });
  }
}
