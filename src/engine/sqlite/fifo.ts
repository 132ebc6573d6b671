/**
 * A first-in-first-out queue of number pairs in fixed-size Float64Array chunks: grows without
 * copying, frees memory as it drains, and holds nothing the garbage collector has to trace.
 */
const CHUNK_PAIRS = 65_536;

export class Fifo {
  readonly #chunks: Float64Array[] = [];
  /** Next pair to read, in the first chunk. */
  #head = 0;
  /** Next pair to write, in the last chunk. */
  #tail = CHUNK_PAIRS;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(first: number, second: number): void {
    if (this.#tail === CHUNK_PAIRS) {
      this.#chunks.push(new Float64Array(2 * CHUNK_PAIRS));
      this.#tail = 0;
    }
    const chunk = this.#chunks[this.#chunks.length - 1];
    if (chunk === undefined) return;
    chunk[2 * this.#tail] = first;
    chunk[2 * this.#tail + 1] = second;
    this.#tail++;
    this.#length++;
  }

  /** The second number of the oldest pair (call only when not empty). */
  peekSecond(): number {
    return this.#chunks[0]?.[2 * this.#head + 1] ?? Number.NaN;
  }

  /** Removes and returns the oldest pair (call only when not empty). */
  shift(): [number, number] {
    const chunk = this.#chunks[0];
    const pair: [number, number] = [
      chunk?.[2 * this.#head] ?? Number.NaN,
      chunk?.[2 * this.#head + 1] ?? Number.NaN,
    ];
    this.#head++;
    this.#length--;
    if (this.#head === CHUNK_PAIRS || this.#length === 0) {
      if (this.#chunks.length === 1) {
        // Empty: reuse nothing, start a fresh chunk on the next push.
        this.#chunks.pop();
        this.#tail = CHUNK_PAIRS;
      } else this.#chunks.shift();
      this.#head = 0;
    }
    return pair;
  }
}
