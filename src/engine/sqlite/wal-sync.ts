/**
 * `fsync: "always"` without holding the event loop for the fsync. The connection runs with
 * synchronous=NORMAL, so COMMIT only write()s its WAL frames; this then fsyncs the WAL file
 * on libuv's thread pool, and group commit resolves a commit's jobs only once that fsync
 * returned. That is what synchronous=FULL does inside COMMIT (in WAL mode FULL syncs the WAL
 * and nothing else at commit; checkpoints sync the WAL before and the database after, in
 * both modes), so an acknowledged write is exactly as durable, but the ~1 ms (more on a busy
 * disk) of each commit's fsync is no longer time in which no request can be parsed.
 *
 * fsync(2) flushes the file, not the descriptor: SQLite's own writes through its descriptor
 * are covered by ours. The WAL keeps its inode while the store is open (SQLite resets and
 * truncates it in place; it is only deleted when the last connection closes).
 */
import { closeSync, fsync, fsyncSync, openSync } from "node:fs";

function errnoOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String(error.code)
    : undefined;
}

export class WalSync {
  readonly #path: string;
  #fd: number | undefined;

  /** `path`: the store's `-wal` file. */
  constructor(path: string) {
    this.#path = path;
  }

  /**
   * Syncs at open what was written before the writer existed (migrations). A WAL that does
   * not exist yet holds nothing to sync; the first commit creates it.
   */
  syncNow(): void {
    try {
      fsyncSync(this.#open());
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw error;
    }
  }

  /** fsyncs the WAL off the event loop; `done` gets the error when it failed. */
  sync(done: (error: Error | null) => void): void {
    let fd: number;
    try {
      fd = this.#open();
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    fsync(fd, done);
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  #open(): number {
    this.#fd ??= openSync(this.#path, "r");
    return this.#fd;
  }
}
