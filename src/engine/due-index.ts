/**
 * Pending scheduled events of each topic by due time, in memory, for a store whose records
 * live elsewhere (the Catalog on NATS): a firing asks it which keys are due instead of
 * listing the store's keys. Keys are bucketed by due second, the seconds kept sorted, so
 * adding, removing and taking the due ones cost about the size of one bucket, not the
 * number pending. A key sorts by due time (its caller makes it so), ties by the rest of it.
 */

interface TopicDue {
  /** Due second → keys due in it. */
  readonly buckets: Map<number, Set<string>>;
  /** The buckets' seconds, ascending. */
  readonly seconds: number[];
  size: number;
}

export interface DueTake {
  /** Up to `limit` keys due at `now` or earlier, in key order. */
  readonly keys: readonly string[];
  /** The due time of the first key after them, or null. */
  readonly next: number | null;
}

const secondOf = (due: number): number => Math.floor(due / 1000);

function searchSeconds(seconds: readonly number[], second: number): number {
  let lo = 0;
  let hi = seconds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((seconds[mid] as number) < second) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class DueIndex {
  readonly #topics = new Map<string, TopicDue>();
  /** The due time a key names. */
  readonly #dueOf: (key: string) => number;

  constructor(dueOf: (key: string) => number) {
    this.#dueOf = dueOf;
  }

  /** Adds `key`; false when it was there already. */
  add(topic: string, key: string): boolean {
    let entry = this.#topics.get(topic);
    if (entry === undefined) {
      entry = { buckets: new Map(), seconds: [], size: 0 };
      this.#topics.set(topic, entry);
    }
    const second = secondOf(this.#dueOf(key));
    let bucket = entry.buckets.get(second);
    if (bucket === undefined) {
      bucket = new Set();
      entry.buckets.set(second, bucket);
      entry.seconds.splice(searchSeconds(entry.seconds, second), 0, second);
    }
    if (bucket.has(key)) return false;
    bucket.add(key);
    entry.size++;
    return true;
  }

  /** Removes `key` if held. */
  remove(topic: string, key: string): void {
    const entry = this.#topics.get(topic);
    if (entry === undefined) return;
    const second = secondOf(this.#dueOf(key));
    const bucket = entry.buckets.get(second);
    if (bucket === undefined || !bucket.delete(key)) return;
    entry.size--;
    if (bucket.size > 0) return;
    entry.buckets.delete(second);
    entry.seconds.splice(searchSeconds(entry.seconds, second), 1);
    if (entry.size === 0) this.#topics.delete(topic);
  }

  dropTopic(topic: string): void {
    this.#topics.delete(topic);
  }

  count(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /** The topic's earliest due time, or null when it holds none. */
  earliest(topic: string): number | null {
    const entry = this.#topics.get(topic);
    const first = entry?.seconds[0];
    if (entry === undefined || first === undefined) return null;
    let min = Number.POSITIVE_INFINITY;
    for (const key of entry.buckets.get(first) ?? []) min = Math.min(min, this.#dueOf(key));
    return min;
  }

  /** The earliest due time of every topic holding keys. */
  earliestAll(): Map<string, number> {
    const due = new Map<string, number>();
    for (const topic of this.#topics.keys()) {
      const at = this.earliest(topic);
      if (at !== null) due.set(topic, at);
    }
    return due;
  }

  /** The first `limit` keys due by `now` (left in place), and when the one after is due. */
  take(topic: string, now: number, limit: number): DueTake {
    const entry = this.#topics.get(topic);
    const keys: string[] = [];
    if (entry === undefined) return { keys, next: null };
    for (const second of entry.seconds) {
      const bucket = [...(entry.buckets.get(second) ?? [])].sort();
      for (const key of bucket) {
        const due = this.#dueOf(key);
        if (due > now || keys.length >= limit) return { keys, next: due };
        keys.push(key);
      }
    }
    return { keys, next: null };
  }
}
