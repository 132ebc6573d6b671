import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../core/event.js";
import { type SqliteProjectionTx, sqliteProjectionStore } from "./projection-sqlite.js";
import {
  applyEvents,
  beginGeneration,
  openProjection,
  resolveNames,
  swapGeneration,
} from "./projection-store.js";

const event = (offset: number, partitionkey?: string): StoredEvent => ({
  specversion: "1.0",
  id: `e${offset}`,
  source: "test",
  type: "counted",
  offset,
  topic: "t",
  appendedat: "2026-12-07T00:00:00Z",
  ...(partitionkey === undefined ? {} : { partitionkey }),
});

function setup() {
  const db = new DatabaseSync(":memory:");
  const store = sqliteProjectionStore(db, {
    tables: { counts: "CREATE TABLE {counts} (offset INTEGER PRIMARY KEY)" },
  });
  const count = (tx: SqliteProjectionTx, e: StoredEvent) =>
    tx.run("INSERT INTO {counts} (offset) VALUES (?)", [e.offset]);
  const offsets = (table: string) =>
    (db.prepare(`SELECT offset FROM ${table} ORDER BY offset`).all() as { offset: number }[]).map(
      (r) => r.offset,
    );
  return { db, store, count, offsets };
}

describe("projection store checkpoints", () => {
  it("skips an event already applied: by key under key ordering, by offset otherwise", async () => {
    const { store, count, offsets } = setup();
    await openProjection(store, "p");
    const live = { kind: "live" } as const;
    const apply = (events: StoredEvent[], perKey = true) =>
      applyEvents(store, "p", live, perKey, events, (e, tx) => count(tx, e));
    expect((await apply([event(1, "a"), event(2), event(3, "b")])).outcomes).toEqual([
      "applied",
      "applied",
      "applied",
    ]);
    expect((await apply([event(1, "a"), event(2), event(3, "b"), event(4, "a")])).outcomes).toEqual(
      ["skipped", "skipped", "skipped", "applied"],
    );
    // A redelivery beside its original in one batch, and a key's next event in the same one.
    expect((await apply([event(6, "c"), event(6, "c"), event(7, "c")])).outcomes).toEqual([
      "applied",
      "skipped",
      "applied",
    ]);
    expect((await apply([event(8), event(8)])).outcomes).toEqual(["applied", "skipped"]);
    // Without key ordering a keyed event is recorded by its offset, whatever came later.
    expect((await apply([event(9, "a"), event(9, "a")], false)).outcomes).toEqual([
      "applied",
      "skipped",
    ]);
    expect(offsets("counts")).toEqual([1, 2, 3, 4, 6, 7, 8, 9]);
  });

  it("rolls back the read model with the checkpoint when a handler fails", async () => {
    const { store, count, offsets } = setup();
    await openProjection(store, "p");
    await expect(
      applyEvents(store, "p", { kind: "live" }, true, [event(1, "a"), event(2, "b")], (e, tx) => {
        count(tx, e);
        if (e.offset === 2) throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(offsets("counts")).toEqual([]);
    const again = await applyEvents(store, "p", { kind: "live" }, true, [event(1, "a")], (e, tx) =>
      count(tx, e),
    );
    expect(again.outcomes).toEqual(["applied"]);
  });

  it("swaps only once the new generation holds every event the live one has", async () => {
    const { db, store, count, offsets } = setup();
    await openProjection(store, "p");
    const handle = (e: StoredEvent, tx: SqliteProjectionTx) => count(tx, e);
    await applyEvents(
      store,
      "p",
      { kind: "live" },
      true,
      [event(1, "a"), event(2), event(3, "a")],
      handle,
    );
    const { building } = await beginGeneration(store, "p");
    expect(building).toBe(2);
    const target = { kind: "building", generation: building } as const;
    await applyEvents(store, "p", target, true, [event(1, "a"), event(2)], handle);
    // A rebuild's commits skip the fsync; the connection's own setting comes back after each.
    expect(db.prepare("PRAGMA synchronous").get()).toEqual({ synchronous: 2 });
    expect(await swapGeneration(store, "p", building, 1)).toBe(false);
    expect(store.table("counts")).toBe("counts__r1");
    // Below the floor (events retention removed) the live generation's rows do not count.
    expect(await swapGeneration(store, "p", building, 4)).toBe(true);
    expect(store.table("counts")).toBe("counts__r2");
    expect(offsets("counts")).toEqual([1, 2]);
  });

  it("drops an abandoned rebuild's generation and refuses its late writes", async () => {
    const { db, store, count } = setup();
    await openProjection(store, "p");
    const first = await beginGeneration(store, "p");
    const second = await beginGeneration(store, "p");
    expect(second).toEqual({ building: 3, abandoned: 2 });
    const target = { kind: "building", generation: first.building } as const;
    await expect(
      applyEvents(store, "p", target, true, [event(1)], (e, tx) => count(tx, e)),
    ).rejects.toMatchObject({ code: "conflict" });
    await expect(swapGeneration(store, "p", first.building, 1)).rejects.toMatchObject({
      code: "conflict",
    });
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'counts%' ORDER BY name",
      )
      .all();
    expect(tables).toEqual([{ name: "counts__r1" }, { name: "counts__r3" }]);
  });

  it("resolves only the declared tables' placeholders", () => {
    expect(resolveNames(`SELECT '{"a":1}', {orders}, {other} FROM {orders}`, ["orders"], 3)).toBe(
      `SELECT '{"a":1}', orders__r3, {other} FROM orders__r3`,
    );
  });
});
