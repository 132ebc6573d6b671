/**
 * The fan-out behind `Catalog.watch`, shared by the engines: each engine feeds committed
 * changes (in revision order) and "synced" confirmations in; each watch gets its own queue,
 * which starts with the snapshot the engine hands over in the same synchronous step as the
 * registration, so no change falls between the two. A slow watcher only grows its own queue
 * (records are small); a watch ends when its signal aborts or the feed closes.
 */
import type { CatalogChange, CatalogEvent } from "./engine.js";

type Listener = (event: CatalogEvent) => void;

export class CatalogFeed {
  readonly #byKind = new Map<string, Set<Listener>>();
  readonly #all = new Set<Listener>();
  readonly #closing = new AbortController();

  publish(change: CatalogChange): void {
    for (const listener of this.#byKind.get(change.kind) ?? []) listener(change);
  }

  /** Every watch: every change committed before `at` has been handed to it. */
  synced(at: number): void {
    for (const listener of this.#all) listener({ type: "synced", at });
  }

  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /** Ends every watch. */
  close(): void {
    this.#closing.abort();
  }

  /**
   * Registers a watch of `kind`, then calls `initial` (synchronously) for its snapshot:
   * the live records and the `synced` marker that follows them.
   */
  async *watch(
    kind: string,
    signal: AbortSignal,
    initial: () => readonly CatalogEvent[],
  ): AsyncIterable<CatalogEvent> {
    if (this.closed || signal.aborted) return;
    const queue: CatalogEvent[] = [];
    let wake: (() => void) | null = null;
    const push: Listener = (event) => {
      queue.push(event);
      wake?.();
    };
    const stop = (): void => wake?.();
    let listeners = this.#byKind.get(kind);
    if (listeners === undefined) {
      listeners = new Set();
      this.#byKind.set(kind, listeners);
    }
    listeners.add(push);
    this.#all.add(push);
    signal.addEventListener("abort", stop, { once: true });
    this.#closing.signal.addEventListener("abort", stop, { once: true });
    try {
      queue.push(...initial());
      while (!signal.aborted && !this.closed) {
        const event = queue.shift();
        if (event !== undefined) {
          yield event;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    } finally {
      listeners.delete(push);
      if (listeners.size === 0) this.#byKind.delete(kind);
      this.#all.delete(push);
      signal.removeEventListener("abort", stop);
      this.#closing.signal.removeEventListener("abort", stop);
    }
  }
}
