/** Reads straight from the connection, of committed state that is also durable. */
import type { EngineContext } from "./context.js";
import { closedError, toSwitchyardError } from "./errors.js";

/**
 * Runs `read` once every commit it could see is fsync'd (at once, unless a commit is waiting
 * for its WAL fsync: group-commit.ts), mapping native errors: with fsync "always" nothing a
 * power loss could still take back is ever shown.
 */
export function durableRead<T>(ctx: EngineContext, doing: string, read: () => T): Promise<T> {
  if (ctx.isClosed()) return Promise.reject(closedError());
  return ctx.writer.whenSynced(() => {
    if (ctx.isClosed()) throw closedError();
    try {
      return read();
    } catch (error) {
      throw toSwitchyardError(error, doing);
    }
  });
}
