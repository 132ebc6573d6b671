/**
 * The Catalog facet: versioned records with compare-and-set, expiry, watches that start
 * with the current state and stay in revision order, and limits that write nothing. With a
 * `peer` (NATS), a second node on the same state sees every change within a second.
 */
import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { SwitchyardError } from "../../core/errors.js";
import {
  CATALOG_MAX_VALUE_BYTES,
  CATALOG_SYNC_MS,
  type CatalogChange,
  type CatalogEvent,
  type Engine,
} from "../engine.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, POSITIVE_MS } from "./probes.js";

const KIND = "things";

/** Collects a watch's events in the background until `stop()`. */
function startWatch(engine: Engine, kind = KIND) {
  const controller = new AbortController();
  const events: CatalogEvent[] = [];
  let ended = false;
  const done = (async () => {
    for await (const event of engine.catalog.watch(kind, controller.signal)) events.push(event);
    ended = true;
  })();
  const changes = () => events.filter((e): e is CatalogChange => e.type === "change");
  const syncs = () => events.filter((e) => e.type === "synced").length;
  return {
    events,
    changes,
    get ended() {
      return ended;
    },
    /** Resolves once the watch has yielded its initial state. */
    synced: () => eventually(() => expect(syncs()).toBeGreaterThan(0), { timeoutMs: POSITIVE_MS }),
    async stop() {
      controller.abort();
      await done;
    },
  };
}

/** The settled outcomes of concurrent writes: how many won, and the codes of those that lost. */
async function outcomes(writes: readonly Promise<unknown>[]) {
  const settled = await Promise.allSettled(writes);
  const won = settled.filter((s) => s.status === "fulfilled").length;
  const codes = settled.flatMap((s) =>
    s.status === "rejected" ? [s.reason instanceof SwitchyardError ? s.reason.code : "?"] : [],
  );
  return { won, codes };
}

export function catalogTests(harness: EngineHarness): void {
  describe("catalog", () => {
    it("puts, gets, lists by prefix in key order, deletes; kinds are separate", async () => {
      const engine = await harness.open();
      const c = engine.catalog;
      try {
        expect(await c.get(KIND, "a")).toBeNull();
        const before = Date.now();
        const r1 = await c.put(KIND, "a/2", { n: 1 });
        const r2 = await c.put(KIND, "a/1", { n: 2, nested: { list: [1, "x", null] } });
        const r3 = await c.put(KIND, "b/1", { n: 3 });
        await c.put("others", "a/1", { other: true });
        expect(r1).toBeGreaterThan(0);
        expect(r2).toBeGreaterThan(r1);
        expect(r3).toBeGreaterThan(r2);
        const got = await c.get(KIND, "a/1");
        expect(got).toMatchObject({
          key: "a/1",
          value: { n: 2, nested: { list: [1, "x", null] } },
          revision: r2,
          expiresAt: null,
        });
        expect(got?.updatedAt).toBeGreaterThanOrEqual(before - 1_000);
        expect(got?.updatedAt).toBeLessThanOrEqual(Date.now() + 1_000);
        expect((await c.list(KIND)).map((e) => e.key)).toEqual(["a/1", "a/2", "b/1"]);
        expect((await c.list(KIND, "a/")).map((e) => [e.key, e.revision])).toEqual([
          ["a/1", r2],
          ["a/2", r1],
        ]);
        expect(await c.list(KIND, "zz")).toEqual([]);
        const r4 = await c.put(KIND, "a/1", { n: 4 });
        expect(r4).toBeGreaterThan(r3);
        expect(await c.get(KIND, "a/1")).toMatchObject({ value: { n: 4 }, revision: r4 });
        expect(await c.delete(KIND, "a/1")).toBe(true);
        expect(await c.delete(KIND, "a/1")).toBe(false);
        expect(await c.get(KIND, "a/1")).toBeNull();
        expect(await c.get("others", "a/1")).toMatchObject({ value: { other: true } });
        expect((await c.list(KIND)).map((e) => e.key)).toEqual(["a/2", "b/1"]);
      } finally {
        await engine.close();
      }
    });

    it("compare-and-set: expectedRevision 0 creates only, n updates or deletes only at n", async () => {
      const engine = await harness.open();
      const c = engine.catalog;
      try {
        const r1 = await c.put(KIND, "k", { v: 1 }, { expectedRevision: 0 });
        await expectCode(c.put(KIND, "k", { v: 2 }, { expectedRevision: 0 }), "revision_conflict");
        await expectCode(
          c.put(KIND, "k", { v: 2 }, { expectedRevision: r1 + 100 }),
          "revision_conflict",
        );
        await expectCode(
          c.put(KIND, "absent", { v: 2 }, { expectedRevision: r1 }),
          "revision_conflict",
        );
        expect(await c.get(KIND, "absent")).toBeNull();
        const r2 = await c.put(KIND, "k", { v: 2 }, { expectedRevision: r1 });
        expect(r2).toBeGreaterThan(r1);
        await expectCode(c.put(KIND, "k", { v: 3 }, { expectedRevision: r1 }), "revision_conflict");
        await expectCode(c.delete(KIND, "k", { expectedRevision: r1 }), "revision_conflict");
        expect(await c.get(KIND, "k")).toMatchObject({ value: { v: 2 }, revision: r2 });
        expect(await c.delete(KIND, "k", { expectedRevision: r2 })).toBe(true);
        expect(await c.delete(KIND, "k", { expectedRevision: r2 })).toBe(false);
        // Deleted means absent: it can be created again.
        expect(await c.put(KIND, "k", { v: 5 }, { expectedRevision: 0 })).toBeGreaterThan(r2);
      } finally {
        await engine.close();
      }
    });

    it("compare-and-set under concurrency: of 20 writers at one revision exactly one wins", async () => {
      const engine = await harness.open();
      const c = engine.catalog;
      try {
        const creates = await outcomes(
          Array.from({ length: 20 }, (_, i) => c.put(KIND, "race", { i }, { expectedRevision: 0 })),
        );
        expect(creates.won).toBe(1);
        expect(creates.codes).toEqual(Array(19).fill("revision_conflict"));
        const current = await c.get(KIND, "race");
        const revision = current?.revision ?? -1;
        const updates = await outcomes(
          Array.from({ length: 20 }, (_, i) =>
            c.put(KIND, "race", { i, round: 2 }, { expectedRevision: revision }),
          ),
        );
        expect(updates.won).toBe(1);
        expect(updates.codes).toEqual(Array(19).fill("revision_conflict"));
        const after = await c.get(KIND, "race");
        expect(after?.value).toMatchObject({ round: 2 });
        expect(after?.revision).toBeGreaterThan(revision);
      } finally {
        await engine.close();
      }
    });

    it("a watch yields the current state, synced, then every change in revision order", async () => {
      const engine = await harness.open();
      const c = engine.catalog;
      try {
        const replaced = await c.put(KIND, "old/2", { v: 0 });
        const kept = await c.put(KIND, "old/2", { v: 1 });
        await c.put(KIND, "old/1", { v: 0 });
        await c.put(KIND, "gone", { v: 0 });
        await c.delete(KIND, "gone");
        await c.put("others", "x", { v: 0 });
        const watch = startWatch(engine);
        await watch.synced();
        const initial = watch.changes();
        expect(initial.map((e) => [e.key, e.value])).toEqual(
          expect.arrayContaining([
            ["old/1", { v: 0 }],
            ["old/2", { v: 1 }],
          ]),
        );
        expect(initial).toHaveLength(2);
        // In revision order, not key order.
        expect(initial.map((e) => e.key)).toEqual(["old/2", "old/1"]);
        expect(initial.find((e) => e.key === "old/2")?.revision).toBe(kept);
        expect(initial.some((e) => e.revision === replaced)).toBe(false);
        expect(watch.events[initial.length]?.type).toBe("synced");

        const written: [string, number, unknown][] = [];
        for (let i = 0; i < 10; i++) {
          const key = `new/${i % 4}`;
          if (i % 3 === 2) {
            const existed = await c.delete(KIND, key);
            if (existed) written.push([key, -1, null]);
          } else {
            written.push([key, await c.put(KIND, key, { i }), { i }]);
          }
        }
        await c.put("others", "y", { v: 1 });
        await eventually(
          () => expect(watch.changes().length).toBe(initial.length + written.length),
          {
            timeoutMs: POSITIVE_MS,
          },
        );
        const later = watch.changes().slice(initial.length);
        expect(later.map((e) => [e.key, e.value])).toEqual(written.map(([k, , v]) => [k, v]));
        for (const [i, [, revision]] of written.entries())
          if (revision !== -1) expect(later[i]?.revision).toBe(revision);
        const revisions = later.map((e) => e.revision);
        expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
        expect(new Set(revisions).size).toBe(revisions.length);
        expect(watch.changes().every((e) => e.kind === KIND)).toBe(true);
        await watch.stop();
        expect(watch.ended).toBe(true);
      } finally {
        await engine.close();
      }
    });

    it("a healthy watch keeps yielding synced markers, each newer than the last", async () => {
      const engine = await harness.open();
      try {
        const watch = startWatch(engine);
        await watch.synced();
        await eventually(
          () => expect(watch.events.filter((e) => e.type === "synced").length).toBeGreaterThan(2),
          { timeoutMs: 4 * CATALOG_SYNC_MS + POSITIVE_MS },
        );
        const ats = watch.events.flatMap((e) => (e.type === "synced" ? [e.at] : []));
        expect(ats).toEqual([...ats].sort((a, b) => a - b));
        const last = ats.at(-1) ?? 0;
        expect(Date.now() - last).toBeLessThan(CATALOG_SYNC_MS + POSITIVE_MS);
        await watch.stop();
      } finally {
        await engine.close();
      }
    });

    it("a watch ends when the engine closes", async () => {
      const engine = await harness.open();
      const watch = startWatch(engine);
      await watch.synced();
      await engine.close();
      await eventually(() => expect(watch.ended).toBe(true), { timeoutMs: POSITIVE_MS });
    });

    it("an expired record is invisible, is purged (watchers see the delete) and can be created again", async () => {
      const engine = await harness.open();
      const c = engine.catalog;
      try {
        const watch = startWatch(engine);
        await watch.synced();
        const start = Date.now();
        const revision = await c.put(KIND, "short", { v: 1 }, { ttlMs: 400 });
        await c.put(KIND, "long", { v: 1 }, { ttlMs: 600_000 });
        const entry = await c.get(KIND, "short");
        expect(entry?.expiresAt).toBeGreaterThanOrEqual(start + 400);
        expect(entry?.expiresAt).toBeLessThanOrEqual(Date.now() + 400);
        await eventually(async () => expect(await c.get(KIND, "short")).toBeNull(), {
          timeoutMs: POSITIVE_MS,
        });
        expect(Date.now() - start).toBeGreaterThanOrEqual(399);
        expect((await c.list(KIND)).map((e) => e.key)).toEqual(["long"]);
        await eventually(
          () =>
            expect(
              watch
                .changes()
                .filter((e) => e.key === "short")
                .map((e) => e.value),
            ).toEqual([{ v: 1 }, null]),
          { timeoutMs: 2 * POSITIVE_MS },
        );
        // An expired record counts as absent for compare-and-set.
        expect(await c.put(KIND, "short", { v: 2 }, { expectedRevision: 0 })).toBeGreaterThan(
          revision,
        );
        await watch.stop();
        const late = startWatch(engine);
        await late.synced();
        expect(
          late
            .changes()
            .map((e) => e.key)
            .sort(),
        ).toEqual(["long", "short"]);
        await late.stop();
      } finally {
        await engine.close();
      }
    });

    for (const how of ["close", "kill"] as const) {
      it(`after ${how}: records and revisions survive, and revisions are never reused`, async () => {
        const before = await harness.open();
        const c = before.catalog;
        await c.put(KIND, "a", { v: 1 });
        await c.put(KIND, "b", { v: 2 }, { ttlMs: 600_000 });
        const last = await c.put(KIND, "c", { v: 3 });
        await c.delete(KIND, "c");
        const snapshot = await c.list(KIND);
        const after = await harness.reopen(before, how);
        try {
          expect(await after.catalog.list(KIND)).toEqual(snapshot);
          expect(await after.catalog.get(KIND, "c")).toBeNull();
          expect(await after.catalog.put(KIND, "c", { v: 4 })).toBeGreaterThan(last);
        } finally {
          await after.close();
        }
      });
    }

    it("rejects bad kinds, keys, values and options with invalid_request, writing nothing", async () => {
      const engine = await harness.open();
      const c = engine.catalog;
      try {
        for (const kind of ["", "Upper", "1st", "has.dot", "a/b", "x".repeat(33)])
          await expectCode(c.put(kind, "k", { v: 1 }), "invalid_request");
        for (const key of ["", ".a", "a.", "a..b", "a b", "ä", "a*", "a>", "x".repeat(513)]) {
          await expectCode(c.put(KIND, key, { v: 1 }), "invalid_request");
          await expectCode(c.get(KIND, key), "invalid_request");
        }
        await expectCode(c.list(KIND, "a b"), "invalid_request");
        const badWatch = c.watch("Bad", new AbortController().signal)[Symbol.asyncIterator]();
        await expectCode(badWatch.next(), "invalid_request");
        for (const value of [null, [], "text", 1, [{ a: 1 }]])
          await expectCode(
            c.put(KIND, "k", value as unknown as Record<string, unknown>),
            "invalid_request",
          );
        const big = { blob: "x".repeat(CATALOG_MAX_VALUE_BYTES) };
        await expectCode(c.put(KIND, "k", big), "invalid_request");
        for (const ttlMs of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
          await expectCode(c.put(KIND, "k", { v: 1 }, { ttlMs }), "invalid_request");
        for (const expectedRevision of [-1, 1.5, Number.NaN])
          await expectCode(c.put(KIND, "k", { v: 1 }, { expectedRevision }), "invalid_request");
        expect(await c.list(KIND)).toEqual([]);
        // Just under the limit is fine; the key charset allows - / _ = . inside.
        const fits = { blob: "x".repeat(CATALOG_MAX_VALUE_BYTES - 20) };
        const revision = await c.put(KIND, "a-b/c_d=e.f", fits);
        expect(await c.get(KIND, "a-b/c_d=e.f")).toMatchObject({ revision, value: fits });
      } finally {
        await engine.close();
      }
    });

    if (harness.peer !== undefined) {
      const peerOf = harness.peer.bind(harness);
      it("a second node sees every change within a second and shares compare-and-set", async () => {
        const a = await harness.open();
        const b = await peerOf(a);
        try {
          const watch = startWatch(b);
          await watch.synced();
          const revision = await a.catalog.put(
            KIND,
            "shared",
            { from: "a" },
            { expectedRevision: 0 },
          );
          await eventually(
            () => expect(watch.changes().map((e) => e.revision)).toContain(revision),
            { timeoutMs: 1_000, intervalMs: 10 },
          );
          await expectCode(
            b.catalog.put(KIND, "shared", { from: "b" }, { expectedRevision: 0 }),
            "revision_conflict",
          );
          const race = await outcomes([
            a.catalog.put(KIND, "shared", { from: "a" }, { expectedRevision: revision }),
            b.catalog.put(KIND, "shared", { from: "b" }, { expectedRevision: revision }),
          ]);
          expect(race).toEqual({ won: 1, codes: ["revision_conflict"] });
          expect(await b.catalog.delete(KIND, "shared")).toBe(true);
          await eventually(() => expect(watch.changes().at(-1)?.value).toBeNull(), {
            timeoutMs: 1_000,
            intervalMs: 10,
          });
          await watch.stop();
        } finally {
          await b.close();
          await a.close();
        }
      });
    }
  });
}
