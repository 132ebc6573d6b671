/**
 * One engine per store: the engine's in-memory dedupe window and wake-ups assume it is the
 * only writer. `switchyard.lock` holds the owner's pid; a lock left by a dead process (after a
 * crash) is taken over. Inside one process, a store stays locked until its engine closes.
 */
import { readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SwitchyardError } from "../../core/errors.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function ownerOf(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export interface StoreLock {
  release(): void;
}

/** Stores open in this process, by real path. */
const openHere = new Set<string>();

export function lockStore(dir: string): StoreLock {
  const path = join(dir, "switchyard.lock");
  const real = realpathSync(dir);
  if (openHere.has(real))
    throw new SwitchyardError(
      "engine_unavailable",
      `the store in ${dir} is already open in this process; close that engine first`,
    );
  const owner = ownerOf(path);
  if (owner !== null && owner !== process.pid && alive(owner))
    throw new SwitchyardError(
      "engine_unavailable",
      `the store in ${dir} is in use by process ${owner}; stop it first`,
    );
  writeFileSync(path, String(process.pid));
  openHere.add(real);
  return {
    release: () => {
      openHere.delete(real);
      if (ownerOf(path) === process.pid) rmSync(path, { force: true });
    },
  };
}
