/**
 * Finds a message in a stream by what it says rather than by its sequence, when what it says
 * only grows along the sequence (a subject's ledger: versions, and the offsets they name).
 * JetStream answers "the first message of this subject at or after sequence s" in one
 * request, so a binary search over sequences costs O(log n) requests and reads none of the
 * messages in between.
 */

/** A message found at or after some sequence: its own sequence and its content. */
export interface Found<T> {
  readonly seq: number;
  readonly value: T;
}

/**
 * The first message in `lo..hi` whose content `reached` accepts, or null when none does.
 * `next(s)` answers the first message at or after `s` (null when there is none up to `hi`);
 * `reached` must be false and then true along the sequence. With `fromTop` the search first
 * steps down from `hi` in doubling steps, so a message d sequences below `hi` costs
 * O(log d) requests, not O(log (hi - lo)): reads near a stream's end stay cheap however long
 * the stream is.
 */
export async function firstReached<T>(
  lo: number,
  hi: number,
  next: (seq: number) => Promise<Found<T> | null>,
  reached: (value: T) => boolean,
  fromTop: boolean,
): Promise<Found<T> | null> {
  // Invariants: nothing below `bottom` is reached; `best` is the first message at or after
  // `top`, and it is reached (null: there is none).
  let bottom = lo;
  let top = hi + 1;
  let best: Found<T> | null = null;
  const probe = async (seq: number): Promise<boolean> => {
    const found = await next(seq);
    if (found === null || reached(found.value)) {
      top = seq;
      best = found;
      return true;
    }
    bottom = found.seq + 1;
    return false;
  };
  if (fromTop)
    for (let step = 1; top - step > bottom; step *= 2) if (!(await probe(top - step))) break;
  while (bottom < top) await probe(Math.floor((bottom + top) / 2));
  return best;
}
