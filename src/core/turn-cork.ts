/** The connection under a WebSocket: frames written while it is corked leave in one write. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Holds a connection's writes for the rest of this turn of the event loop, so the frames a
 * stream sends in one turn (a settle frame and the credit after it; an ack's results and the
 * next deliveries, which come out of the same commit) leave in one write: with many
 * subscriptions of small credit a write per frame was a good part of both sides' cost.
 * Uncorked once this turn's promise continuations have run (process.nextTick runs after them).
 */
export class TurnCork {
  #corked = false;

  hold(connection: Corkable | undefined): void {
    if (connection === undefined || this.#corked) return;
    this.#corked = true;
    connection.cork();
    process.nextTick(() => {
      this.#corked = false;
      connection.uncork();
    });
  }
}
