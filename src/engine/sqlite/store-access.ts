/**
 * Whether the store may be written, asked of the kernel with access(2) instead of by writing.
 * A store remounted read-only (EROFS) or whose folder or files lost write permission (EACCES)
 * is refused before a commit is tried, and `ready()` (so `/readyz`) says why. SQLite keeps its
 * files open, and an open file stays writable after a chmod: refusing here makes the engine
 * behave as it would after a restart, instead of writing to a store the operator froze.
 * The answer is kept for CHECK_MS of real time (not the engine's clock, which tests fake), so
 * a store made writable again is used again within that time, without a restart.
 */
import { accessSync, constants } from "node:fs";
import { SwitchyardError } from "../../core/errors.js";

export const CHECK_MS = 500;

function errnoOf(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error) return String(error.code);
  return String(error);
}

function refusal(path: string): SwitchyardError | null {
  try {
    accessSync(path, constants.W_OK);
    return null;
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === "ENOENT") return null; // a WAL not created yet: SQLite makes it on demand
    const why = errno === "EROFS" ? "its file system is read-only" : `access(W_OK) says ${errno}`;
    return new SwitchyardError(
      "engine_unavailable",
      `the store is not writable: ${path}: ${why}; writes are refused until it is writable again`,
      { cause: error },
    );
  }
}

export class StoreAccess {
  readonly #paths: readonly string[];
  #checkedAt = Number.NEGATIVE_INFINITY;
  #problem: SwitchyardError | null = null;

  /** `paths`: the store's folder and files; a missing file counts as writable. */
  constructor(paths: readonly string[]) {
    this.#paths = paths;
  }

  /** Null when the store may be written, else the `engine_unavailable` error saying why. */
  problem(): SwitchyardError | null {
    const now = performance.now();
    if (now - this.#checkedAt >= CHECK_MS) {
      this.#checkedAt = now;
      this.#problem = null;
      for (const path of this.#paths) {
        this.#problem = refusal(path);
        if (this.#problem !== null) break;
      }
    }
    return this.#problem;
  }
}
