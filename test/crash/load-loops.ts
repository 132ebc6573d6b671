import { expect } from "vitest";
import { eventually } from "../support/eventually.js";

/** Between kills, wait for this many newly confirmed events (a random number in the range). */
const PROGRESS_EVENTS: readonly [number, number] = [200, 3_000];

/** The publish and consume loops, their stop flags, and the first error either one threw. */
export class LoadLoops {
  stopPublishing = false;
  stopConsuming = false;
  #error: unknown;
  readonly #running = new Map<string, Promise<unknown>>();

  start(name: string, loop: () => Promise<unknown>): void {
    this.#running.set(
      name,
      loop().catch((error: unknown) => {
        this.#error ??= error;
        this.stopPublishing = true;
        this.stopConsuming = true;
      }),
    );
  }

  async finished(name: string): Promise<void> {
    await this.#running.get(name);
    this.throwIfFailed();
  }

  throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  /** Waits until a random number of new events were confirmed and some were delivered. */
  async progress(
    confirmed: () => number,
    delivered: () => number,
    diagnose: () => Promise<string>,
  ): Promise<void> {
    const [low, high] = PROGRESS_EVENTS;
    const target = confirmed() + low + Math.floor(Math.random() * (high - low));
    const deliveredBefore = delivered();
    await withDiagnosis(
      eventually(
        () => {
          this.throwIfFailed();
          expect(confirmed(), "events confirmed").toBeGreaterThanOrEqual(target);
          expect(delivered(), "deliveries").toBeGreaterThan(deliveredBefore);
        },
        { timeoutMs: 30_000, intervalMs: 5 },
      ),
      diagnose,
    );
  }
}

/** Rethrows a wait's failure with the state of the subscription and of each key appended. */
export async function withDiagnosis(
  wait: Promise<unknown>,
  diagnose: () => Promise<string>,
): Promise<void> {
  try {
    await wait;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${message}\n${await diagnose().catch((e: unknown) => `(no diagnosis: ${String(e)})`)}`,
    );
  }
}
