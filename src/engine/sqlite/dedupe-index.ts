/**
 * The dedupe window of one topic, in memory: a 52-bit hash of `source`+`id` mapped to the
 * offset it was stored at. A SQLite table keyed by (topic, source, id) was measured first:
 * producers' ids are random, so every insert dirties a different page of a b-tree much larger
 * than the cache and each commit rewrote ~4 KB of WAL per event (21-46k events/s against
 * 130-390k without it). This index costs nothing on disk; it is rebuilt at open from the
 * events still inside each topic's window (see dedupe-rebuild.ts), and every hit is verified
 * against the stored event, so a hash collision can never drop an event.
 *
 * It lives in typed arrays, not a Map: millions of entries then cost the garbage collector
 * nothing to trace (a Map of 52-bit keys is millions of heap numbers, and made appends ~30%
 * slower at 6M entries), and about 40 bytes each. An open-addressing table (linear probing,
 * backward-shift deletion) answers lookups; a FIFO of (key, offset) in insertion order, i.e.
 * offset order, drives pruning; `marks` turns a time cutoff into an offset cutoff.
 */
import { Fifo } from "./fifo.js";

/**
 * Most ids one topic's window remembers (~640 MB at most). Beyond it the oldest ids are
 * forgotten early: the window is shortened rather than memory exhausted.
 */
export const MAX_DEDUPE_ENTRIES = 16_000_000;

const EMPTY = 0;
const MAX_LOAD = 0.7;
/** Small: a router holds one index per topic, and most (dead-letter topics) stay empty. */
const MIN_CAPACITY = 16;

export class DedupeIndex {
  readonly #maxEntries: number;
  #keys = new Float64Array(MIN_CAPACITY);
  #offsets = new Float64Array(MIN_CAPACITY);
  #mask = MIN_CAPACITY - 1;
  #count = 0;
  readonly #fifo = new Fifo();
  #marks: { at: number; offset: number }[] = [];
  #head = 0;

  constructor(maxEntries = MAX_DEDUPE_ENTRIES) {
    this.#maxEntries = maxEntries;
  }

  /** The offset stored for `hash`, if it was appended at or after `cutoffAt`. */
  lookup(hash: number, cutoffAt: number): number | undefined {
    const slot = this.#find(hash + 1);
    if (slot < 0) return undefined;
    const offset = this.#offsets[slot] ?? 0;
    return offset < this.#firstOffsetSince(cutoffAt) ? undefined : offset;
  }

  add(hash: number, offset: number, appendedAt: number): void {
    const last = this.#marks[this.#marks.length - 1];
    if (last === undefined || last.at < appendedAt) this.#marks.push({ at: appendedAt, offset });
    const key = hash + 1;
    if (this.#find(key) < 0 && this.#count >= this.#maxEntries) this.#evictOldest();
    this.#put(key, offset);
    this.#fifo.push(key, offset);
  }

  /** Forgets everything appended before `cutoffAt`. */
  prune(cutoffAt: number): void {
    const keepFrom = this.#firstOffsetSince(cutoffAt);
    while (this.#fifo.length > 0 && this.#fifo.peekSecond() < keepFrom) this.#popFifo();
    while (this.#head < this.#marks.length && (this.#marks[this.#head]?.at ?? 0) < cutoffAt)
      this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#marks.length) {
      this.#marks = this.#marks.slice(this.#head);
      this.#head = 0;
    }
    this.#shrinkIfSparse();
  }

  get size(): number {
    return this.#count;
  }

  /** Slots of the hash table (for tests and memory figures). */
  get capacity(): number {
    return this.#keys.length;
  }

  /**
   * After a burst has left the window, the table it grew would otherwise stay at its peak
   * (16 bytes a slot: 32 MiB for a 1M-id burst). Shrunk to a quarter once at most an eighth
   * is used, so an index hovering near one size does not resize back and forth.
   */
  #shrinkIfSparse(): void {
    let capacity = this.#keys.length;
    while (capacity > MIN_CAPACITY && this.#count * 8 <= capacity * MAX_LOAD) capacity /= 4;
    capacity = Math.max(MIN_CAPACITY, capacity);
    if (capacity < this.#keys.length) this.#resize(capacity);
  }

  /** Drops the oldest FIFO entry; returns true if it was still live (not re-added since). */
  #popFifo(): boolean {
    const [key, offset] = this.#fifo.shift();
    const slot = this.#find(key);
    if (slot < 0 || this.#offsets[slot] !== offset) return false;
    this.#deleteSlot(slot);
    return true;
  }

  #evictOldest(): void {
    while (this.#fifo.length > 0 && !this.#popFifo()) {
      // stale FIFO entries (keys re-added later) are skipped
    }
  }

  #home(key: number): number {
    return (key % 0x1_0000_0000) & this.#mask;
  }

  #find(key: number): number {
    for (let i = this.#home(key); ; i = (i + 1) & this.#mask) {
      const k = this.#keys[i];
      if (k === key) return i;
      if (k === EMPTY || k === undefined) return -1;
    }
  }

  #put(key: number, offset: number): void {
    let i = this.#home(key);
    for (; ; i = (i + 1) & this.#mask) {
      const k = this.#keys[i];
      if (k === key) break;
      if (k === EMPTY) {
        this.#keys[i] = key;
        this.#count++;
        break;
      }
    }
    this.#offsets[i] = offset;
    if (this.#count > this.#keys.length * MAX_LOAD) this.#resize(this.#keys.length * 2);
  }

  /** Backward-shift deletion: later entries of the probe run move up, so no tombstones. */
  #deleteSlot(slot: number): void {
    const keys = this.#keys;
    const mask = this.#mask;
    let hole = slot;
    for (let j = (slot + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      const key = keys[j] ?? EMPTY;
      const home = this.#home(key);
      if (((hole - home) & mask) < ((j - home) & mask)) {
        keys[hole] = key;
        this.#offsets[hole] = this.#offsets[j] ?? 0;
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    this.#offsets[hole] = 0;
    this.#count--;
  }

  #resize(capacity: number): void {
    const keys = this.#keys;
    const offsets = this.#offsets;
    this.#keys = new Float64Array(capacity);
    this.#offsets = new Float64Array(capacity);
    this.#mask = capacity - 1;
    this.#count = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] ?? EMPTY;
      if (key !== EMPTY) this.#put(key, offsets[i] ?? 0);
    }
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
