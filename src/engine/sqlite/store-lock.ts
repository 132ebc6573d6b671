/**
 * One process per store: the engine's in-memory dedupe window and wake-ups assume it is the
 * only writer, and offline commands that rewrite the store must not run beside a router.
 *
 * The lock is one the kernel holds for us: `switchyard.lock.db` is an empty SQLite database
 * (in-memory rollback journal, never WAL) on which the owner keeps a `BEGIN EXCLUSIVE` transaction open
 * for as long as it owns the store. SQLite takes that as a POSIX `fcntl` write lock on the
 * file, which the kernel drops when the process dies however it dies (kill -9 included), so
 * a restart never finds a stale lock, and two processes racing to start cannot both win:
 * taking the lock is one atomic step, not a check followed by a write. Inside one process,
 * SQLite tracks its own locks per file, so a second connection is refused there too.
 *
 * `switchyard.lock` beside it holds the owner's pid, written after the lock is taken, only to
 * name the owner in the refusal. It is never trusted for the decision (a crash leaves it
 * behind, naming a dead or reused pid); the next owner overwrites it.
 *
 * Never open `switchyard.lock.db` with plain file calls from inside the owning process: closing
 * any descriptor on a file drops every POSIX lock the process holds on it.
 */
import { readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SwitchyardError } from "../../core/errors.js";

export const LOCK_DB_FILE = "switchyard.lock.db";
export const LOCK_PID_FILE = "switchyard.lock";

/** How long a refused opener waits for the new owner to write its pid (only to name it). */
const OWNER_LOOKUP_MS = 1_000;

/**
 * How long an opener lets SQLite retry a busy lock before it refuses. Not zero: taking
 * EXCLUSIVE is a climb through SHARED, RESERVED and PENDING, and two openers climbing at the
 * same instant can each see the other's step and both give up, leaving the store to no one.
 * With a busy handler, SQLite backs one off and lets the other finish, so exactly one wins;
 * a store that is really owned is refused after this wait, which is still "at once" to a
 * person (the owner holds its lock for its whole life, so no wait would ever end in a win).
 */
const CONTENTION_WAIT_MS = 250;

export interface StoreLock {
  /** Gives the store up; idempotent. The process exiting releases it too. */
  release(): void;
}

/** Stores locked by this process, by real path: a clearer refusal than SQLite's own. */
const lockedHere = new Set<string>();

/**
 * Takes the store in `dir` (which must exist) for this process, or throws `engine_unavailable`
 * at once, naming the owner: "the store in DIR is in use by process N; stop it first".
 */
export function lockStore(dir: string): StoreLock {
  const real = realpathSync(dir);
  if (lockedHere.has(real))
    throw new SwitchyardError(
      "engine_unavailable",
      `the store in ${dir} is already open in this process; close that engine first`,
    );
  const db = new DatabaseSync(join(dir, LOCK_DB_FILE), { timeout: CONTENTION_WAIT_MS });
  try {
    // The journal stays in memory (nothing is ever written), so no journal file is left after a crash;
    // the lock itself is SQLite's fcntl lock on the database file in either journal mode.
    db.exec("PRAGMA journal_mode = MEMORY");
    db.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    db.close();
    if (!isBusy(error)) throw error;
    throw inUse(dir);
  }
  lockedHere.add(real);
  const pidFile = join(dir, LOCK_PID_FILE);
  writePid(pidFile);
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      // The pid file goes first: once the lock is free, the next owner writes its own.
      if (readPid(pidFile) === process.pid) rmSync(pidFile, { force: true });
      db.close(); // ends the transaction: the kernel lock is dropped here
      lockedHere.delete(real);
    },
  };
}

function isBusy(error: unknown): boolean {
  const { errcode, errstr } = error as { errcode?: number; errstr?: string };
  // SQLITE_BUSY (5) and its extended codes (5 + n·256).
  return (typeof errcode === "number" && (errcode & 0xff) === 5) || errstr === "database is locked";
}

function inUse(dir: string): SwitchyardError {
  const owner = ownerPid(join(dir, LOCK_PID_FILE));
  const who = owner === null ? "another process" : `process ${owner}`;
  return new SwitchyardError(
    "engine_unavailable",
    `the store in ${dir} is in use by ${who}; stop it first`,
  );
}

/**
 * The pid the owner recorded. The owner writes it just after taking the lock, so a refused
 * opener may briefly see the file a dead owner left (or none): it waits, bounded, for a pid
 * of a live process other than itself.
 */
function ownerPid(pidFile: string): number | null {
  const deadline = Date.now() + OWNER_LOOKUP_MS;
  for (;;) {
    const pid = readPid(pidFile);
    if (pid !== null && pid !== process.pid && alive(pid)) return pid;
    if (Date.now() >= deadline) return null;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

function writePid(pidFile: string): void {
  // Write then rename, so a reader never sees a half-written pid.
  const temporary = `${pidFile}.${process.pid}.tmp`;
  writeFileSync(temporary, String(process.pid));
  renameSync(temporary, pidFile);
}

function readPid(pidFile: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
