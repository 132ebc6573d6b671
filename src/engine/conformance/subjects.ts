import { describe, expect, it } from "vitest";
import { SwitchyardError } from "../../core/errors.js";
import type { Appended, Engine, NewEvent, SubjectPage } from "../engine.js";
import { newEvent, uniqueName } from "./fixtures.js";
import type { EngineHarness } from "./harness.js";
import { expectCode, idsOf } from "./probes.js";
import { createTopic, useEngine } from "./scope.js";

const INDEXED = { indexes: ["subject"] as const };

function onSubject(subject: string, id?: string): NewEvent {
  return newEvent({ ...(id === undefined ? {} : { id }), extensions: { subject } });
}

function versionsOf(results: readonly Appended[]): (number | undefined)[] {
  return results.map((r) => ("offset" in r ? r.subjectVersion : undefined));
}

/** The subject's stream once its index is built (a backfill answers `index_missing`). */
async function subjectWhenReady(
  engine: Engine,
  topic: string,
  subject: string,
  fromVersion = 1,
  limit = 1_000,
): Promise<SubjectPage> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await engine.log.readSubject(topic, subject, fromVersion, limit);
    } catch (error) {
      if (Date.now() > deadline || (error as { code?: string }).code !== "index_missing")
        throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function conflictOf(action: Promise<unknown>): Promise<SwitchyardError> {
  const error = await action.then(
    () => new Error("expected version_conflict, but the append resolved"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwitchyardError);
  expect((error as SwitchyardError).code).toBe("version_conflict");
  return error as SwitchyardError;
}

export function subjectTests(harness: EngineHarness): void {
  describe("subject streams (subject index)", () => {
    const engine = useEngine(harness);

    it("numbers each subject's events from 1 and reads one subject in order", async () => {
      const topic = await createTopic(engine(), INDEXED);
      expect((await engine().log.getTopic(topic))?.indexes).toEqual(["subject"]);
      expect((await engine().log.stats(topic)).indexes).toEqual({
        subject: { state: "ready", remaining: 0 },
      });
      const a = uniqueName("order");
      const b = uniqueName("order");
      const first = await engine().log.append(topic, [
        onSubject(a, "a1"),
        onSubject(b, "b1"),
        newEvent({ id: "none" }),
        onSubject(a, "a2"),
      ]);
      expect(versionsOf(first)).toEqual([1, 1, undefined, 2]);
      // A repeat is not stored, so it takes no version of its own.
      const again = await engine().log.append(topic, [onSubject(a, "a1"), onSubject(a, "a3")]);
      expect(again.map((r) => ("offset" in r ? r.duplicate : null))).toEqual([true, false]);
      expect(versionsOf(again)).toEqual([1, 3]);
      const page = await subjectWhenReady(engine(), topic, a);
      expect(idsOf(page.records)).toEqual(["a1", "a2", "a3"]);
      expect(page.records.map((r) => r.subjectVersion)).toEqual([1, 2, 3]);
      expect(page.records.map((r) => r.offset)).toEqual([1, 4, 5]);
      expect(page).toMatchObject({ version: 3, firstVersion: 1, next: 4 });
      const tail = await subjectWhenReady(engine(), topic, a, 2, 1);
      expect(idsOf(tail.records)).toEqual(["a2"]);
      expect(tail.next).toBe(3);
      // The log's own reads carry the version too.
      const log = await engine().log.read(topic, { offset: 1 }, 10);
      expect(log.records.map((r) => r.subjectVersion)).toEqual([1, 1, undefined, 2, 3]);
      expect(await subjectWhenReady(engine(), topic, uniqueName("unknown"))).toEqual({
        records: [],
        version: 0,
        firstVersion: 1,
        next: 1,
      });
    });

    it("appends with expectedVersion only at that version; a conflict appends nothing", async () => {
      const topic = await createTopic(engine(), INDEXED);
      const s = uniqueName("cart");
      expect(
        versionsOf(await engine().log.append(topic, [onSubject(s, "c1")], { expectedVersion: 0 })),
      ).toEqual([1]);
      const stale = await conflictOf(
        engine().log.append(topic, [onSubject(s, "c2")], { expectedVersion: 0 }),
      );
      expect(stale.details).toEqual({ currentVersion: 1 });
      await conflictOf(engine().log.append(topic, [onSubject(s, "c2")], { expectedVersion: 5 }));
      expect(
        versionsOf(await engine().log.append(topic, [onSubject(s, "c2")], { expectedVersion: 1 })),
      ).toEqual([2]);
      // Dedupe first: a retry of an append that went through answers duplicate, not a conflict.
      const retry = await engine().log.append(topic, [onSubject(s, "c2")], { expectedVersion: 1 });
      expect(retry).toEqual([expect.objectContaining({ duplicate: true, subjectVersion: 2 })]);
      expect((await engine().log.stats(topic)).lastOffset).toBe(2);
      const page = await subjectWhenReady(engine(), topic, s);
      expect(idsOf(page.records)).toEqual(["c1", "c2"]);
      expect(page.version).toBe(2);
    });

    it("refuses expectedVersion with mixed subjects, and on a topic without the index", async () => {
      const topic = await createTopic(engine(), INDEXED);
      await expectCode(
        engine().log.append(topic, [onSubject("x"), onSubject("y")], { expectedVersion: 0 }),
        "invalid_request",
      );
      await expectCode(
        engine().log.append(topic, [newEvent()], { expectedVersion: 0 }),
        "invalid_request",
      );
      const plain = await createTopic(engine());
      await expectCode(
        engine().log.append(plain, [onSubject("x")], { expectedVersion: 0 }),
        "index_missing",
      );
      await expectCode(engine().log.readSubject(plain, "x", 1, 10), "index_missing");
      if (!engine().capabilities.atomicBatch)
        await expectCode(
          engine().log.append(topic, [onSubject("x"), onSubject("x")], { expectedVersion: 0 }),
          "invalid_request",
        );
      else {
        const both = await engine().log.append(topic, [onSubject("x"), onSubject("x")], {
          expectedVersion: 0,
        });
        expect(versionsOf(both)).toEqual([1, 2]);
      }
      expect((await engine().log.stats(plain)).lastOffset).toBe(0);
    });

    it("lets exactly one of 50 concurrent writers win each version", async () => {
      const topic = await createTopic(engine(), INDEXED);
      const s = uniqueName("hot");
      const writers = 50;
      let expected = Array.from({ length: writers }, () => 0);
      const wins: number[] = [];
      // Each round every writer that has not won yet tries at the version it last saw.
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled(
          expected.map((version, w) =>
            engine().log.append(topic, [onSubject(s, `w${w}-r${round}`)], {
              expectedVersion: version,
            }),
          ),
        );
        const byVersion = new Map<number, number>();
        const next: number[] = [];
        results.forEach((result, w) => {
          if (result.status === "fulfilled") {
            const v = versionsOf(result.value)[0] ?? -1;
            byVersion.set(v, (byVersion.get(v) ?? 0) + 1);
            wins.push(v);
            next.push(v);
          } else {
            const error = result.reason as SwitchyardError;
            expect(error.code).toBe("version_conflict");
            next.push(Number((error.details as { currentVersion: number }).currentVersion));
          }
          void w;
        });
        for (const count of byVersion.values()) expect(count).toBe(1);
        expected = next;
      }
      expect([...wins].sort((x, y) => x - y)).toEqual(
        Array.from({ length: wins.length }, (_, i) => i + 1),
      );
      const page = await subjectWhenReady(engine(), topic, s);
      expect(page.version).toBe(wins.length);
      expect(page.records).toHaveLength(wins.length);
      expect((await engine().log.stats(topic)).lastOffset).toBe(wins.length);
    });

    it("builds versions from retained events when the index is added; index_missing until built", async () => {
      const topic = await createTopic(engine());
      const s = uniqueName("old");
      await engine().log.append(
        topic,
        Array.from({ length: 30 }, (_, i) => onSubject(s, `old${i + 1}`)),
      );
      const config = await engine().log.getTopic(topic);
      if (config === null) throw new Error("topic expected");
      await engine().log.putTopic({ ...config, indexes: ["subject"] });
      const state = (await engine().log.stats(topic)).indexes?.subject;
      expect(state?.state === "building" || state?.state === "ready").toBe(true);
      const page = await subjectWhenReady(engine(), topic, s);
      expect(page.version).toBe(30);
      expect(page.records.map((r) => r.subjectVersion)).toEqual(
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      const next = await engine().log.append(topic, [onSubject(s, "new1")], {
        expectedVersion: 30,
      });
      expect(versionsOf(next)).toEqual([31]);
    });

    it("never lowers or reuses a version when retention removes events", async () => {
      const topic = await createTopic(engine(), { ...INDEXED, retention: { maxEvents: 2 } });
      const s = uniqueName("kept");
      for (const id of ["a", "b", "c", "d"]) await engine().log.append(topic, [onSubject(s, id)]);
      await engine().log.enforceRetention();
      const page = await subjectWhenReady(engine(), topic, s);
      expect(idsOf(page.records)).toEqual(["c", "d"]);
      expect(page).toMatchObject({ version: 4, firstVersion: 3, next: 5 });
      await conflictOf(engine().log.append(topic, [onSubject(s, "e")], { expectedVersion: 2 }));
      expect(
        versionsOf(await engine().log.append(topic, [onSubject(s, "e")], { expectedVersion: 4 })),
      ).toEqual([5]);
    });

    it("reads any window of a long stream from its version, as a whole read shows it", async () => {
      const topic = await createTopic(engine(), INDEXED);
      const s = uniqueName("long");
      const other = uniqueName("other");
      // Another subject interleaved, and repeats that take no version, between s's events.
      for (let chunk = 0; chunk < 6; chunk++) {
        const ids = Array.from({ length: 10 }, (_, i) => `s${chunk * 10 + i + 1}`);
        await engine().log.append(
          topic,
          ids.flatMap((id) => [onSubject(s, id), onSubject(other, `o-${id}`)]),
        );
        await engine().log.append(topic, [onSubject(s, `s${chunk * 10 + 4}`)]);
      }
      const whole = await subjectWhenReady(engine(), topic, s);
      const versions = Array.from({ length: 60 }, (_, i) => i + 1);
      expect(whole.records.map((r) => r.subjectVersion)).toEqual(versions);
      expect(idsOf(whole.records)).toEqual(versions.map((v) => `s${v}`));
      for (const from of [1, 2, 17, 58, 59, 60, 61, 500])
        for (const limit of [1, 2, 3, 4, 10, 100]) {
          const page = await engine().log.readSubject(topic, s, from, limit);
          const expected = whole.records.filter((r) => (r.subjectVersion ?? 0) >= from);
          expect(idsOf(page.records), `from ${from} limit ${limit}`).toEqual(
            idsOf(expected.slice(0, limit)),
          );
          expect(page.records.map((r) => r.offset)).toEqual(
            expected.slice(0, limit).map((r) => r.offset),
          );
          expect(page).toMatchObject({
            version: 60,
            firstVersion: 1,
            next: from > 60 ? from : Math.min(from + limit, 61),
          });
        }
      // The next append still checks against the newest version.
      await conflictOf(engine().log.append(topic, [onSubject(s, "late")], { expectedVersion: 59 }));
      const late = await engine().log.append(topic, [onSubject(s, "late")], {
        expectedVersion: 60,
      });
      expect(versionsOf(late)).toEqual([61]);
      expect(idsOf((await engine().log.readSubject(topic, s, 61, 1)).records)).toEqual(["late"]);
    });

    it("reads a window of a stream whose front retention removed from its first retained version", async () => {
      const topic = await createTopic(engine(), { ...INDEXED, retention: { maxEvents: 40 } });
      const s = uniqueName("trimmed");
      const other = uniqueName("other");
      await engine().log.append(
        topic,
        Array.from({ length: 30 }, (_, i) => [
          onSubject(s, `s${i + 1}`),
          onSubject(other, `o${i + 1}`),
        ]).flat(),
      );
      await engine().log.enforceRetention();
      // Offsets 21..60 are left: s's events at odd offsets 21..59, versions 11..30.
      const whole = await subjectWhenReady(engine(), topic, s);
      expect(whole).toMatchObject({ version: 30, firstVersion: 11, next: 31 });
      expect(whole.records.map((r) => r.subjectVersion)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 11),
      );
      const fromStart = await engine().log.readSubject(topic, s, 1, 5);
      expect(idsOf(fromStart.records)).toEqual(["s11", "s12", "s13", "s14", "s15"]);
      expect(fromStart).toMatchObject({ version: 30, firstVersion: 11, next: 16 });
      const middle = await engine().log.readSubject(topic, s, 20, 3);
      expect(idsOf(middle.records)).toEqual(["s20", "s21", "s22"]);
      expect(middle.next).toBe(23);
      const last = await engine().log.readSubject(topic, s, 30, 1);
      expect(idsOf(last.records)).toEqual(["s30"]);
      expect(await engine().log.readSubject(topic, s, 31, 10)).toMatchObject({
        records: [],
        version: 30,
        firstVersion: 11,
        next: 31,
      });
      expect(versionsOf(await engine().log.append(topic, [onSubject(s, "s31")]))).toEqual([31]);
    });

    it("drops the index when the config removes it; added again it counts the retained events", async () => {
      const topic = await createTopic(engine(), INDEXED);
      const s = uniqueName("again");
      for (const id of ["a", "b"]) await engine().log.append(topic, [onSubject(s, id)]);
      const config = await engine().log.getTopic(topic);
      if (config === null) throw new Error("topic expected");
      const { indexes: _indexes, ...unindexed } = config;
      await engine().log.putTopic(unindexed);
      expect((await engine().log.stats(topic)).indexes).toBeUndefined();
      await expectCode(engine().log.readSubject(topic, s, 1, 10), "index_missing");
      await engine().log.append(topic, [onSubject(s, "c")]);
      await engine().log.putTopic({ ...unindexed, indexes: ["subject"] });
      const page = await subjectWhenReady(engine(), topic, s);
      expect(idsOf(page.records)).toEqual(["a", "b", "c"]);
      expect(page.version).toBe(3);
      const d = await engine().log.append(topic, [onSubject(s, "d")], { expectedVersion: 3 });
      expect(versionsOf(d)).toEqual([4]);
    });
  });
}
