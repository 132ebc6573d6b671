/** Load loops. Every loop is bounded twice: by a count and by a deadline. */

export interface LoadResult {
  /** Tasks that finished without throwing. */
  readonly done: number;
  readonly errors: number;
  /** The first error seen, for the report. */
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
}

/**
 * Runs `task(i)` for i = 0..count-1 with at most `window` tasks in flight, starting no new
 * task once `maxMs` has passed since the start.
 */
export async function windowed(
  count: number,
  window: number,
  maxMs: number,
  task: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const started = performance.now();
  const deadline = started + maxMs;
  let next = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      try {
        await task(i);
        done++;
      } catch (error) {
        errors++;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
  return { done, errors, firstError, elapsedMs: performance.now() - started };
}

/**
 * Loads `count` events through a system's own publish, `window` in flight, reporting progress
 * every 100,000: the preload of systems without a faster bulk path. Throws when it stops short.
 */
export async function preloadByPublishing(
  publish: (seq: number) => Promise<void>,
  count: number,
  limits: { readonly window: number; readonly maxMs: number },
  onProgress?: (loaded: number) => void,
): Promise<void> {
  let loaded = 0;
  const result = await windowed(count, limits.window, limits.maxMs, async (i) => {
    await publish(i);
    loaded++;
    if (loaded % 100_000 === 0 || loaded === count) onProgress?.(loaded);
  });
  if (result.errors > 0 || loaded < count)
    throw new Error(`preload stopped at ${loaded}/${count}: ${result.firstError ?? "time limit"}`);
}

/** Resolves after `ms`; for pacing a fixed-rate load, never for waiting on a condition. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `done()` every `intervalMs` until it is true or `maxMs` has passed; answers whether it
 * became true.
 */
export async function until(done: () => boolean, maxMs: number, intervalMs = 10): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  while (!done()) {
    if (performance.now() >= deadline) return false;
    await delay(intervalMs);
  }
  return true;
}
