/**
 * Background work that must finish (an index backfill) runs again after a failure until it
 * does or the engine closes: a timeout under load or a leader election must not leave an
 * index building for good (flows would answer 409 `index_missing` until the next start).
 */
import { SwitchyardError } from "../../core/errors.js";
import type { NatsContext } from "./context.js";

const FIRST_PAUSE_MS = 100;
/** Short, so a closing engine (which waits for tracked work) is not held up. */
const MAX_PAUSE_MS = 500;

export async function untilDone(ctx: NatsContext, work: () => Promise<void>): Promise<void> {
  for (let attempt = 0; !ctx.closed; attempt++) {
    try {
      await work();
      return;
    } catch (error) {
      // The topic is gone: there is nothing left to build.
      if (error instanceof SwitchyardError && error.code === "topic_not_found") return;
      const pause = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
