import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { systemClock } from "../../core/clock.js";
import { SwitchyardError } from "../../core/errors.js";
import type { EngineContext } from "./context.js";
import { Db } from "./database.js";
import { GroupCommit } from "./group-commit.js";
import { migrate } from "./schema.js";
import { StoreAccess } from "./store-access.js";
import { RETRY_MS, Sweeper } from "./sweeper.js";

/** A store that refuses writes (as a full disk would) until told otherwise. */
class Gate extends StoreAccess {
  refusing = true;
  refusals = 0;
  override problem(): SwitchyardError | null {
    if (!this.refusing) return null;
    this.refusals++;
    return new SwitchyardError("storage_full", "the disk is full");
  }
}

describe("max-attempts sweeper", () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-sweeper-"));
  const db = new Db({ path: join(dir, "s.db"), fsync: "interval" });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs a sweep the store refused again once the store takes writes", async () => {
    migrate(db);
    const gate = new Gate([]);
    const writer = new GroupCommit(db, systemClock, new Map(), gate);
    const ctx = { db, writer, clock: systemClock, isClosed: () => false } as EngineContext;
    const sweeper = new Sweeper();
    sweeper.start(ctx);
    sweeper.schedule("sub", systemClock.now());
    await eventually(() => expect(gate.refusals).toBeGreaterThan(0));
    gate.refusing = false;
    await eventually(() => expect(writer.stats.commits).toBe(1), { timeoutMs: RETRY_MS * 10 });
    sweeper.close();
  });
});
