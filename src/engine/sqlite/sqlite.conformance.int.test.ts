/**
 * Runs the engine conformance suite against the embedded SQLite engine, once per durability
 * setting. A "kill" closes the engine's raw SQLite handle behind its back: the engine gets no
 * graceful path (no flush of queued commits, no lock release), as if its process had died;
 * committed data is all that is left, exactly as after SIGKILL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { vi } from "vitest";
import type { EngineHarness } from "../conformance/harness.js";
import { engineConformance } from "../conformance/index.js";
import type { Engine } from "../engine.js";
import { openSqliteEngine } from "./index.js";

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
      if (how === "close") await engine.close();
      else for (const connection of state.connections) if (connection.isOpen) connection.close();
      return openAt(state.dir);
    },
    async cleanup() {
      for (const [engine] of opened) await engine.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

engineConformance(sqliteHarness("always"));
engineConformance(sqliteHarness("interval"));
