/**
 * Retries `fn` until it stops throwing (or its promise stops rejecting), then answers its
 * value; after `timeoutMs` rethrows the last error. The way tests wait for a condition:
 * polling with a stated bound, never a bare sleep.
 */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
