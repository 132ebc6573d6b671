/**
 * Runs the engine conformance suite against the embedded SQLite engine, once per durability
 * setting.
 *
 * A "kill" is simulated in-process, faithfully to what SIGKILL leaves behind: the store's
 * files (database, WAL, shared-memory index, lock) are copied as they are at that instant
 * into a new folder, the engine's raw SQLite handle is closed behind its back (so nothing it
 * had queued can still commit), and the engine reopens the copy. The copy has an
 * un-checkpointed WAL and a lock naming a dead process, so the reopen goes through SQLite's
 * WAL recovery and the engine's stale-lock takeover, as after a real crash. (Closing the handle
 * would checkpoint the original folder, which is why the copy is taken first and used.)
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { vi } from "vitest";
import type { EngineHarness } from "../conformance/harness.js";
import { engineConformance } from "../conformance/index.js";
import type { Engine } from "../engine.js";
import { openSqliteEngine } from "./index.js";
import { LOCK_DB_FILE, LOCK_PID_FILE } from "./store-lock.js";

const tracked = vi.hoisted(() => ({ opened: [] as DatabaseSync[] }));

// Records every SQLite connection the engine opens, so a simulated crash can close it raw.
vi.mock("node:sqlite", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:sqlite")>();
  class TrackedDatabaseSync extends real.DatabaseSync {
    constructor(...args: ConstructorParameters<typeof real.DatabaseSync>) {
      super(...args);
      tracked.opened.push(this);
    }
  }
  return { ...real, DatabaseSync: TrackedDatabaseSync };
});

/** A pid no process has any more: the owner a crashed engine's lock file names. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  if (child.pid === undefined) throw new Error("could not start a child process");
  return child.pid;
}

/** The folder's files as a crash at this instant would leave them, lock owner dead. */
function crashImage(from: string, to: string): void {
  mkdirSync(to);
  // Not the lock database: opening and closing it here would drop this process's kernel lock
  // on it (POSIX locks are per process), and a dead owner's lock is gone anyway.
  for (const file of readdirSync(from))
    if (file !== LOCK_DB_FILE) copyFileSync(join(from, file), join(to, file));
  const lock = join(to, LOCK_PID_FILE);
  if (existsSync(lock)) writeFileSync(lock, String(deadPid()));
}

interface Opened {
  readonly dir: string;
  readonly connections: readonly DatabaseSync[];
}

function sqliteHarness(fsync: "always" | "interval"): EngineHarness {
  const root = mkdtempSync(join(tmpdir(), `switchyard-conformance-${fsync}-`));
  const opened = new Map<Engine, Opened>();
  let count = 0;

  async function openAt(dir: string): Promise<Engine> {
    const before = tracked.opened.length;
    const engine = await openSqliteEngine({ dir, fsync });
    const connections = tracked.opened.slice(before);
    if (connections.length === 0)
      throw new Error("no SQLite connection seen: a kill could not be simulated");
    opened.set(engine, { dir, connections });
    return engine;
  }

  return {
    name: `sqlite (fsync ${fsync})`,
    open: () => {
      count += 1;
      return openAt(join(root, String(count)));
    },
    async reopen(engine, how) {
      const state = opened.get(engine);
      if (state === undefined) throw new Error("reopen of an engine this harness did not open");
      opened.delete(engine);
      if (how === "close") {
        await engine.close();
        return openAt(state.dir);
      }
      count += 1;
      const image = join(root, `${count}-after-kill`);
      crashImage(state.dir, image);
      for (const connection of state.connections) if (connection.isOpen) connection.close();
      // A killed process's timers die with it; here they would fire on the closed handle
      // forever (the Catalog's expiry pass). Closing stops them; nothing can commit any more.
      await engine.close().catch(() => undefined);
      return openAt(image);
    },
    async cleanup() {
      for (const [engine] of opened) await engine.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

engineConformance(sqliteHarness("always"));
engineConformance(sqliteHarness("interval"));
