/**
 * The delete markers a store of fired and cancelled scheduled events leaves behind (a KV
 * bucket keeps one per deleted key for good), remembered as the store's watch shows them,
 * so they can be erased once `keepMs` old. Every node remembers them, the firing node
 * erases them: a node that takes over still knows the ones its predecessor left. A marker
 * older than `keepMs` × 3 is no longer remembered (the firing node erased it, or was lost
 * before it could: then the marker stays, at most that many seconds' worth).
 */

export interface DeleteMarker {
  readonly kind: string;
  readonly key: string;
  /** The marker's own revision: erasing goes up to it, so a record written after survives. */
  readonly revision: number;
  readonly at: number;
}

/** Erases at most this many markers at once (each one request to the store). */
const ERASE_PARALLEL = 64;

export class DeleteMarkers {
  readonly #keepMs: number;
  /** In revision order, so in time order too (near enough for an age cut). */
  #markers: DeleteMarker[] = [];
  #head = 0;
  #erasing = false;

  constructor(keepMs: number) {
    this.#keepMs = keepMs;
  }

  get pending(): number {
    return this.#markers.length - this.#head;
  }

  note(marker: DeleteMarker): void {
    this.#markers.push(marker);
    // Not the firing node (or no pruning for a while): forget the ones long due.
    this.#skipOlderThan(marker.at - 3 * this.#keepMs);
  }

  /** Erases every marker `keepMs` old by `now`; a failed erase is tried again next time. */
  async prune(now: number, erase: (marker: DeleteMarker) => Promise<void>): Promise<number> {
    if (this.#erasing) return 0;
    this.#erasing = true;
    let erased = 0;
    try {
      for (;;) {
        const batch: DeleteMarker[] = [];
        while (batch.length < ERASE_PARALLEL && this.#head < this.#markers.length) {
          const marker = this.#markers[this.#head] as DeleteMarker;
          if (marker.at > now - this.#keepMs) break;
          batch.push(marker);
          this.#head++;
        }
        if (batch.length === 0) break;
        const results = await Promise.allSettled(batch.map(erase));
        const failed = batch.filter((_, i) => results[i]?.status === "rejected");
        erased += batch.length - failed.length;
        if (failed.length > 0) {
          // Unreachable store: keep them for the next call, stop for now.
          this.#markers.splice(this.#head, 0, ...failed);
          break;
        }
      }
    } finally {
      this.#compact();
      this.#erasing = false;
    }
    return erased;
  }

  #skipOlderThan(cutoff: number): void {
    if (this.#erasing) return;
    while (this.#head < this.#markers.length && (this.#markers[this.#head]?.at ?? 0) < cutoff)
      this.#head++;
    this.#compact();
  }

  #compact(): void {
    if (this.#head > 1_024 && this.#head * 2 > this.#markers.length) {
      this.#markers = this.#markers.slice(this.#head);
      this.#head = 0;
    }
  }
}
