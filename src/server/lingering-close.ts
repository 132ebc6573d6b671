import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** How long, and how much, a connection answered before its body arrived keeps being read. */
export interface LingerBounds {
  /** Stop after this many more bytes. */
  readonly maxBytes: number;
  /** Stop this long after the answer, whatever the client does. */
  readonly maxMs: number;
  /** Stop when the client sends nothing for this long. */
  readonly idleMs: number;
}

export const LINGER_DEFAULTS = { maxMs: 30_000, idleMs: 5_000 } as const;

/**
 * Lingering close, as nginx does it. Node destroys a socket as soon as a `Connection: close`
 * answer is flushed; if the client is still sending a body we refused (413, 408, 503), the
 * kernel answers its next segments with RST, and the client often sees a reset instead of our
 * answer. So the answer is sent with `Connection: close`, the write side is ended (FIN), and
 * the rest of the body is read and discarded until the client closes, or a bound is hit.
 */
export class Lingering {
  readonly #bounds: LingerBounds;
  readonly #sockets = new Set<Socket>();

  constructor(bounds: LingerBounds) {
    this.#bounds = bounds;
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** Arms a lingering close for the connection of `res`, whose request body is unread. */
  afterResponse(res: ServerResponse): void {
    const socket = res.socket;
    if (socket === null || socket.destroyed) return;
    res.setHeader("connection", "close");
    // Node's server calls destroySoon() once the answer is flushed (`res._last`).
    socket.destroySoon = () => this.#linger(socket);
  }

  /** Destroys every lingering connection (at shutdown). */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  #linger(socket: Socket): void {
    const { maxBytes, maxMs, idleMs } = this.#bounds;
    this.#sockets.add(socket);
    socket.end();
    const started = Date.now();
    const firstByte = socket.bytesRead;
    let seen = firstByte;
    let lastData = started;
    const tick = setInterval(
      () => {
        const now = Date.now();
        if (socket.bytesRead !== seen) {
          seen = socket.bytesRead;
          lastData = now;
        }
        if (seen - firstByte > maxBytes || now - started > maxMs || now - lastData > idleMs)
          socket.destroy();
      },
      Math.max(10, Math.min(250, idleMs / 4)),
    );
    tick.unref();
    socket.once("close", () => {
      clearInterval(tick);
      this.#sockets.delete(socket);
    });
  }
}
