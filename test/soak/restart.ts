import { pause } from "../crash/http.js";
import type { RouterProcess } from "../support/router-process.js";

export interface RestartStats {
  /** Starts refused because the store was still locked by the killed process. */
  lockRefusals: number;
}

const ATTEMPTS = 5;

/**
 * SIGKILL, then start again; a start refused with "the store … is in use by process N" (the
 * killed process's lock not yet recognised as stale) is retried a few times and counted, so
 * the soak can report it. Any other failure to start fails at once.
 */
export async function restartCountingLockRefusals(
  router: RouterProcess,
  stats: RestartStats,
): Promise<void> {
  await router.kill();
  for (let attempt = 1; ; attempt++) {
    try {
      await router.start();
      return;
    } catch (error) {
      // The error carries the output's tail, which ends with this start's own output.
      const tail = String(error instanceof Error ? error.message : error).slice(-600);
      if (attempt >= ATTEMPTS || !/is in use by process \d+/.test(tail)) throw error;
      stats.lockRefusals++;
      await pause(250 * attempt);
    }
  }
}
