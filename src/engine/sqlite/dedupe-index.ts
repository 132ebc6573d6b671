/**
 * The dedupe window of one topic, in memory: a 52-bit hash of `source`+`id` mapped to the
 * offset it was stored at. A SQLite table keyed by (topic, source, id) was measured first:
 * producers' ids are random, so every insert dirties a different page of a b-tree much larger
 * than the cache and each commit rewrote ~4 KB of WAL per event (28k events/s against 320k
 * without it). This index costs nothing on disk; it is rebuilt at open from the events still
 * inside each topic's window (see `rebuildDedupe`), and every hit is verified against the
 * stored event, so a hash collision can never drop an event.
 *
 * Map iteration order is insertion order and offsets only grow, so pruning the window is a
 * walk from the front. `marks` remembers where each append time starts, to turn a time
 * cutoff into an offset cutoff.
 */
export class DedupeIndex {
  readonly #offsets = new Map<number, number>();
  #marks: { at: number; offset: number }[] = [];
  #head = 0;

  /** The offset stored for `hash`, if it was appended at or after `cutoffAt`. */
  lookup(hash: number, cutoffAt: number): number | undefined {
    const offset = this.#offsets.get(hash);
    if (offset === undefined || offset < this.#firstOffsetSince(cutoffAt)) return undefined;
    return offset;
  }

  add(hash: number, offset: number, appendedAt: number): void {
    const last = this.#marks[this.#marks.length - 1];
    if (last === undefined || last.at < appendedAt) this.#marks.push({ at: appendedAt, offset });
    this.#offsets.delete(hash);
    this.#offsets.set(hash, offset);
  }

  /** Forgets everything appended before `cutoffAt`. */
  prune(cutoffAt: number): void {
    const keepFrom = this.#firstOffsetSince(cutoffAt);
    for (const [hash, offset] of this.#offsets) {
      if (offset >= keepFrom) break;
      this.#offsets.delete(hash);
    }
    while (this.#head < this.#marks.length && (this.#marks[this.#head]?.at ?? 0) < cutoffAt)
      this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#marks.length) {
      this.#marks = this.#marks.slice(this.#head);
      this.#head = 0;
    }
  }

  get size(): number {
    return this.#offsets.size;
  }

  #firstOffsetSince(cutoffAt: number): number {
    const marks = this.#marks;
    let lo = this.#head;
    let hi = marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((marks[mid]?.at ?? 0) < cutoffAt) lo = mid + 1;
      else hi = mid;
    }
    return marks[lo]?.offset ?? Number.POSITIVE_INFINITY;
  }
}

/** A 52-bit hash (exact in a double) of an event's dedupe identity. */
export function dedupeHash(source: string, id: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  const mix = (code: number): void => {
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
    b ^= b >>> 15;
  };
  for (let i = 0; i < source.length; i++) mix(source.charCodeAt(i));
  mix(0x10000); // separator outside the UTF-16 range: ("ab","c") and ("a","bc") differ
  for (let i = 0; i < id.length; i++) mix(id.charCodeAt(i));
  return (a >>> 0) * 0x100000 + (b >>> 12);
}
