/**
 * Sends to NATS at the end of the event loop's I/O phase, all together. The client writes
 * its buffer to the socket in a microtask after each send, so sends started from separate
 * I/O callbacks (an HTTP request each, a WebSocket ack frame each) cost a socket write each:
 * at 5,000 events/s that write was a quarter of the router's CPU, and nats-server pays a read
 * for each. Run from one `setImmediate`, every send of a loop turn shares one write, for a
 * delay of what is left of the turn. One queue per process: the loop turn is what the sends
 * share, whichever connection they use; FIFO, so sends keep the order they were asked in.
 */

let queued: (() => void)[] = [];

/** Runs `send` (which must not throw) after the I/O callbacks of this loop turn. */
export function sendSoon(send: () => void): void {
  if (queued.push(send) === 1) setImmediate(sendQueued);
}

function sendQueued(): void {
  const batch = queued;
  queued = [];
  let failure: { error: unknown } | undefined;
  for (const send of batch) {
    try {
      send();
    } catch (error) {
      // One broken send must not strand the sends behind it.
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
}
