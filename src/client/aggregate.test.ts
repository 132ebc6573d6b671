import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../core/event.js";
import {
  type AggregateTransport,
  appendDecision,
  conflictBackoffMs,
  createAggregate,
  crossesMultiple,
  prepareDecision,
} from "./aggregate.js";
import { SwitchyardClientError } from "./errors.js";
import type { PublishResult } from "./publish-sender.js";
import type { EventInput } from "./publisher.js";

describe("prepareDecision", () => {
  let n = 0;
  const build = (input: EventInput): CloudEvent =>
    ({ specversion: "1.0", source: "/test", ...input, id: input.id ?? `id-${++n}` }) as CloudEvent;

  it("builds every event on the subject with its id fixed, keeping the ones decide gave", () => {
    n = 0;
    const events = prepareDecision(
      [{ type: "a" }, { type: "b", id: "mine", subject: "s-1" }, { type: "c" }],
      "s-1",
      build,
    );
    expect(events).toEqual([
      { specversion: "1.0", source: "/test", type: "a", subject: "s-1", id: "id-1" },
      { specversion: "1.0", source: "/test", type: "b", subject: "s-1", id: "mine" },
      { specversion: "1.0", source: "/test", type: "c", subject: "s-1", id: "id-2" },
    ]);
    expect(prepareDecision({ type: "one" }, "s-1", build)).toEqual([
      { specversion: "1.0", source: "/test", type: "one", subject: "s-1", id: "id-3" },
    ]);
    expect(prepareDecision([], "s-1", build)).toEqual([]);
  });

  it("refuses an event naming another subject, and things that are not events", () => {
    let foreign: unknown;
    try {
      prepareDecision([{ type: "a" }, { type: "b", subject: "s-2" }], "s-1", build);
    } catch (error) {
      foreign = error;
    }
    expect(foreign).toBeInstanceOf(SwitchyardClientError);
    expect((foreign as SwitchyardClientError).code).toBe("invalid_event");
    expect((foreign as SwitchyardClientError).errors).toEqual([
      { pointer: "/1/subject", message: 'must be "s-1"' },
    ]);
    expect(() => prepareDecision([null] as unknown as EventInput[], "s", build)).toThrow(
      /null at 0/,
    );
    expect(() => prepareDecision([[{ type: "a" }]] as unknown as EventInput[], "s", build)).toThrow(
      /an array at 0/,
    );
  });
});

describe("crossesMultiple", () => {
  it("is true exactly when a multiple of every lies in (from, to]", () => {
    expect(crossesMultiple(0, 99, 100)).toBe(false);
    expect(crossesMultiple(0, 100, 100)).toBe(true);
    expect(crossesMultiple(99, 100, 100)).toBe(true);
    expect(crossesMultiple(100, 199, 100)).toBe(false);
    expect(crossesMultiple(150, 201, 100)).toBe(true);
    expect(crossesMultiple(7, 8, 1)).toBe(true);
  });
});

describe("conflictBackoffMs", () => {
  it("is jittered below a ceiling that doubles from 5 ms to 200 ms", () => {
    expect(conflictBackoffMs(1, () => 1)).toBe(5);
    expect(conflictBackoffMs(3, () => 1)).toBe(20);
    expect(conflictBackoffMs(20, () => 1)).toBe(200);
    expect(conflictBackoffMs(20, () => 0)).toBe(0);
    expect(conflictBackoffMs(4, () => 0.5)).toBe(20);
  });
});

/** A stream in memory behind the transport's contract: versions, dedupe, conflicts. */
function memoryStream(atomic: boolean) {
  const stored: { id: string; version: number }[] = [];
  const sent: { ids: string[]; expected: number }[] = [];
  const interleave = new Map<number, string>();
  const conflict = () =>
    new SwitchyardClientError({
      status: 409,
      code: "version_conflict",
      currentVersion: stored.length,
    });
  const transport: AggregateTransport = {
    readSubject: async (topic, subject, { fromVersion, limit }) => ({
      events: stored.slice(fromVersion - 1, fromVersion - 1 + limit).map((s) => ({
        specversion: "1.0",
        id: s.id,
        source: "/memory",
        type: "t",
        subject,
        topic,
        offset: s.version,
        appendedat: new Date(0).toISOString(),
        subjectversion: s.version,
      })),
      version: stored.length,
      firstVersion: 1,
    }),
    atomicBatch: async () => atomic,
    build: (input) =>
      ({ specversion: "1.0", source: "/memory", id: "random", ...input }) as CloudEvent,
    async publishAt(_topic, events, expected) {
      sent.push({ ids: events.map((e) => e.id ?? ""), expected });
      const theirs = interleave.get(sent.length);
      if (theirs !== undefined) stored.push({ id: theirs, version: stored.length + 1 });
      const repeats = events.map((e) => stored.find((s) => s.id === e.id));
      if (repeats.every((r) => r !== undefined))
        return repeats.map((r) => ({
          id: r.id,
          offset: r.version,
          duplicate: true,
          subjectVersion: r.version,
        }));
      if (expected !== stored.length) throw conflict();
      return events.map((e): PublishResult => {
        stored.push({ id: e.id ?? "", version: stored.length + 1 });
        return {
          id: e.id ?? "",
          offset: stored.length,
          duplicate: false,
          subjectVersion: stored.length,
        };
      });
    },
  };
  return {
    transport,
    stored,
    sent,
    /** Another writer appends just before request number `call` (from 1) is handled. */
    interleaveBefore(call: number, id: string) {
      interleave.set(call, id);
    },
  };
}

const decision = (...ids: string[]): CloudEvent[] =>
  ids.map((id) => ({ specversion: "1.0", source: "/memory", type: "t", id, subject: "s" }));

describe("appendDecision", () => {
  it("sends a decision in one request when the engine appends batches atomically", async () => {
    const memory = memoryStream(true);
    const results = await appendDecision(memory.transport, "t", decision("a", "b", "c"), 0);
    expect(memory.sent).toEqual([{ ids: ["a", "b", "c"], expected: 0 }]);
    expect(results.map((r) => r.subjectVersion)).toEqual([1, 2, 3]);
  });

  it("without atomic batches sends one event at a time, each expecting the previous version", async () => {
    const memory = memoryStream(false);
    await appendDecision(memory.transport, "t", decision("x"), 0);
    const results = await appendDecision(memory.transport, "t", decision("a", "b", "c"), 1);
    expect(memory.sent).toEqual([
      { ids: ["x"], expected: 0 },
      { ids: ["a"], expected: 1 },
      { ids: ["b"], expected: 2 },
      { ids: ["c"], expected: 3 },
    ]);
    expect(results.map((r) => r.subjectVersion)).toEqual([2, 3, 4]);
  });

  it("a conflict on the first event is a version_conflict (nothing appended)", async () => {
    const memory = memoryStream(false);
    memory.interleaveBefore(1, "theirs");
    const error = await appendDecision(memory.transport, "t", decision("a", "b"), 0).catch(
      (e: unknown) => e,
    );
    expect((error as SwitchyardClientError).code).toBe("version_conflict");
    expect(memory.stored.map((s) => s.id)).toEqual(["theirs"]);
  });

  it("a conflict after a prefix rejects with conflict, naming what was appended", async () => {
    const memory = memoryStream(false);
    memory.interleaveBefore(2, "theirs");
    const error = (await appendDecision(memory.transport, "t", decision("a", "b", "c"), 0).catch(
      (e: unknown) => e,
    )) as SwitchyardClientError;
    expect(error.code).toBe("conflict");
    expect(error.problem.appended).toEqual([
      { id: "a", offset: 1, duplicate: false, subjectVersion: 1 },
    ]);
    expect(memory.stored.map((s) => s.id)).toEqual(["a", "theirs"]);
  });

  it("stops at a repeat from before the load: the decision was appended earlier", async () => {
    const memory = memoryStream(false);
    await appendDecision(memory.transport, "t", decision("a", "b"), 0);
    await appendDecision(memory.transport, "t", decision("z"), 2);
    const results = await appendDecision(memory.transport, "t", decision("a", "b"), 3);
    expect(results).toEqual([{ id: "a", offset: 1, duplicate: true, subjectVersion: 1 }]);
    expect(memory.stored).toHaveLength(3);
  });
});

describe("createAggregate", () => {
  const counting = { initialState: 0, evolve: (n: number) => n + 1 };

  it("refuses to fold a stream whose start retention removed", async () => {
    const transport: AggregateTransport = {
      readSubject: async () => ({ events: [], version: 5, firstVersion: 3 }),
      publishAt: async () => [],
      atomicBatch: async () => true,
      build: (input) => ({ specversion: "1.0", source: "/t", id: "x", ...input }) as CloudEvent,
    };
    const aggregate = createAggregate(transport, {
      topic: "t",
      ...counting,
      decide: () => [],
    });
    const error = (await aggregate.load("s").catch((e: unknown) => e)) as SwitchyardClientError;
    expect(error.code).toBe("conflict");
    expect(error.message).toContain("starts at version 3");
    expect(error.problem.firstVersion).toBe(3);
  });

  it("a snapshot that fails to save warns and leaves the handled command handled", async () => {
    const memory = memoryStream(true);
    const aggregate = createAggregate(memory.transport, {
      topic: "t",
      ...counting,
      decide: () => ({ type: "t.counted" }),
      snapshots: {
        every: 1,
        store: {
          load: async () => undefined,
          save: async () => {
            throw new Error("disk full");
          },
        },
      },
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      const result = await aggregate.handle("s", null);
      expect(result.events).toHaveLength(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([
        expect.stringContaining("t/s at version 1 failed: Error: disk full"),
      ]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("checks its options when created", () => {
    const base = { topic: "t", ...counting, decide: () => [] };
    expect(() => createAggregate(memoryStream(true).transport, { ...base, topic: "a b" })).toThrow(
      /topic name/,
    );
    expect(() =>
      createAggregate(memoryStream(true).transport, { ...base, maxAttempts: 0 }),
    ).toThrow(/maxAttempts/);
    expect(() =>
      createAggregate(memoryStream(true).transport, {
        ...base,
        snapshots: { every: 0.5, store: { load: async () => undefined, save: async () => {} } },
      }),
    ).toThrow(/snapshots.every/);
  });
});
