/**
 * `client.aggregate` against a real router, on the embedded engine and on NATS (a
 * nats-server of this file's own): folding and deciding, a new stream, concurrent handlers
 * of one subject, a lost answer, refusals, and snapshots in SQLite and in PostgreSQL (a
 * fresh database on the machine's server).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  type EventInput,
  type Fetch,
  pgSnapshotStore,
  type SnapshotStore,
  type StoredEvent,
  type SwitchyardClient,
  SwitchyardClientError,
  sqliteSnapshotStore,
} from "../../src/client/index.js";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import { databasePerFile } from "../support/postgres.js";
import { startTestRouter, type TestRouter, uniqueName } from "../support/router.js";
import { TEST_SECRET_KEY } from "../support/router-process.js";

type Command = { readonly add: number } | { readonly close: true } | { readonly addTwice: number };

interface Counter {
  readonly total: number;
  readonly closed: boolean;
  /** `id@offset/subjectversion` in fold order: what was folded, not only how much. */
  readonly seen: readonly string[];
}

const initialCounter = (): Counter => ({ total: 0, closed: false, seen: [] });

function evolveCounter(state: Counter, event: StoredEvent): Counter {
  const seen = [...state.seen, `${event.id}@${event.offset}/${event.subjectversion}`];
  if (event.type === "counter.closed") return { ...state, closed: true, seen };
  return { ...state, total: state.total + (event.data as { n: number }).n, seen };
}

function decideCounter(command: Command, state: Counter): EventInput | EventInput[] {
  if (state.closed) throw new Error("the counter is closed");
  if ("close" in command) return { type: "counter.closed" };
  if ("addTwice" in command)
    return [
      { type: "counter.added", data: { n: command.addTwice } },
      { type: "counter.added", data: { n: command.addTwice } },
    ];
  if (command.add === 0) return [];
  return { type: "counter.added", data: { n: command.add } };
}

/** The requests a client sent, and a switch to lose the answer of a chosen one. */
function recordingFetch() {
  const requests: { method: string; url: string }[] = [];
  let loseAnswerOf: ((method: string, url: string) => boolean) | undefined;
  const fetch: Fetch = async (url, init) => {
    const method = init.method ?? "GET";
    requests.push({ method, url });
    const response = await globalThis.fetch(url, init);
    if (loseAnswerOf?.(method, url)) {
      loseAnswerOf = undefined;
      await response.arrayBuffer();
      // The router appended; the client never hears so.
      throw new TypeError("fetch failed", { cause: new Error("socket hang up") });
    }
    return response;
  };
  return {
    fetch,
    requests,
    appends: () => requests.filter((r) => r.method === "POST" && r.url.includes("expectedVersion")),
    loseNextAnswer(match: (method: string, url: string) => boolean) {
      loseAnswerOf = match;
    },
  };
}

const database = databasePerFile();
let pool: pg.Pool;
const sqliteDir = mkdtempSync(join(tmpdir(), "switchyard-aggregate-snapshots-"));
let sqliteDb: DatabaseSync;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  sqliteDb = new DatabaseSync(join(sqliteDir, "snapshots.db"));
});
afterAll(async () => {
  await pool?.end();
  sqliteDb?.close();
  rmSync(sqliteDir, { recursive: true, force: true });
});

const stores: { readonly name: string; create(table: string): SnapshotStore<Counter> }[] = [
  { name: "SQLite", create: (table) => sqliteSnapshotStore<Counter>(sqliteDb, { table }) },
  { name: "PostgreSQL", create: (table) => pgSnapshotStore<Counter>(pool, { table }) },
];

function aggregateSuite(engine: "sqlite" | "nats", start: () => Promise<TestRouter>): void {
  let router: TestRouter;
  let plain: SwitchyardClient;
  beforeAll(async () => {
    router = await start();
    plain = createClient({ url: router.url });
  }, 60_000);
  afterAll(async () => {
    await plain?.close();
    await router?.dispose();
  });

  async function indexedTopic(): Promise<string> {
    const topic = uniqueName("agg");
    await plain.admin.topics.put(topic, { indexes: ["subject"] });
    return topic;
  }

  function counters(client: SwitchyardClient, topic: string, extra: { maxAttempts?: number } = {}) {
    return client.aggregate<Counter, Command>({
      topic,
      initialState: initialCounter,
      evolve: evolveCounter,
      decide: decideCounter,
      ...extra,
    });
  }

  it("starts a stream at version 0, folds what it appended, and decides on the folded state", async () => {
    const topic = await indexedTopic();
    const recorder = recordingFetch();
    const client = createClient({ url: router.url, fetch: recorder.fetch });
    try {
      const counter = counters(client, topic);
      const subject = uniqueName("counter");
      expect(await counter.load(subject)).toEqual({ state: initialCounter(), version: 0 });
      const first = await counter.handle(subject, { add: 5 });
      expect(first).toMatchObject({ version: 1, duplicate: false, state: { total: 5 } });
      expect(first.events).toHaveLength(1);
      expect(first.events[0]?.subjectVersion).toBe(1);
      expect(recorder.appends().at(-1)?.url).toContain("expectedVersion=0");

      const twice = await counter.handle(subject, { addTwice: 2 });
      expect(twice.version).toBe(3);
      expect(twice.state.total).toBe(9);
      expect(twice.events.map((e) => e.subjectVersion)).toEqual([2, 3]);
      // SQLite appends a decision in one request; NATS one event at a time, each expecting
      // the version the previous one made.
      const multi = recorder.appends().slice(1);
      if (engine === "sqlite")
        expect(multi.map((r) => r.url)).toEqual([expect.stringContaining("expectedVersion=1")]);
      else
        expect(multi.map((r) => new URL(r.url).searchParams.get("expectedVersion"))).toEqual([
          "1",
          "2",
        ]);

      // Nothing to do: no request at all.
      const before = recorder.appends().length;
      expect(await counter.handle(subject, { add: 0 })).toMatchObject({ version: 3, events: [] });
      expect(recorder.appends()).toHaveLength(before);

      const page = await plain.readSubject(topic, subject);
      const stream = page.events as unknown as StoredEvent[];
      expect(stream.every((e) => e.subject === subject)).toBe(true);
      // `handle` folds what it sent with the router's answer: the stream's fold, offsets and
      // versions included.
      expect(twice.state).toEqual(stream.reduce(evolveCounter, initialCounter()));
      expect(await counter.load(subject)).toEqual({ state: twice.state, version: 3 });
    } finally {
      await client.close();
    }
  });

  it("twenty concurrent handlers of one subject lose no increment", async () => {
    const topic = await indexedTopic();
    const subject = uniqueName("busy");
    const counter = counters(plain, topic, { maxAttempts: 100 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => counter.handle(subject, { add: i + 1 })),
    );
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const final = await counter.load(subject);
    expect(final.version).toBe(20);
    expect(final.state.total).toBe(210);
    expect(results.find((r) => r.version === 20)?.state).toEqual(final.state);
  });

  it("after maxAttempts conflicting decisions rejects with version_conflict", async () => {
    const topic = await indexedTopic();
    const subject = uniqueName("contended");
    let decisions = 0;
    const counter = plain.aggregate<Counter, Command>({
      topic,
      initialState: initialCounter(),
      evolve: evolveCounter,
      // Another writer always gets there first.
      decide: async (command, state, context) => {
        decisions++;
        expect(context).toEqual({ subject, version: decisions - 1 });
        await plain.publish(topic, { type: "counter.added", subject, data: { n: 1 } });
        return decideCounter(command, state);
      },
      maxAttempts: 3,
    });
    const error = await counter.handle(subject, { add: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchyardClientError);
    expect((error as SwitchyardClientError).code).toBe("version_conflict");
    expect((error as SwitchyardClientError).message).toContain("after 3 decisions");
    expect(decisions).toBe(3);
    expect((await counter.load(subject)).state.total).toBe(3);
  });

  it("a lost answer sent again is a duplicate, not a second decision", async () => {
    const topic = await indexedTopic();
    const recorder = recordingFetch();
    const client = createClient({
      url: router.url,
      fetch: recorder.fetch,
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
    });
    try {
      let decisions = 0;
      const counter = client.aggregate<Counter, Command>({
        topic,
        initialState: initialCounter,
        evolve: evolveCounter,
        decide: (command, state) => {
          decisions++;
          return decideCounter(command, state);
        },
      });
      const subject = uniqueName("lossy");
      const isAppend = (method: string, url: string) =>
        method === "POST" && url.includes("expectedVersion");
      recorder.loseNextAnswer(isAppend);
      const one = await counter.handle(subject, { add: 7 });
      expect(one).toMatchObject({ version: 1, duplicate: true, state: { total: 7 } });
      expect(decisions).toBe(1);
      const sent = recorder.appends();
      expect(sent).toHaveLength(2);
      expect(sent[1]?.url).toBe(sent[0]?.url);

      // A decision of two: the answer of its last request is lost (on NATS, the second event's).
      recorder.loseNextAnswer(
        (method, url) => isAppend(method, url) && (engine === "sqlite" || url.includes("=2")),
      );
      const two = await counter.handle(subject, { addTwice: 3 });
      expect(two).toMatchObject({ version: 3, duplicate: true, state: { total: 13 } });
      expect(two.events.map((e) => e.subjectVersion)).toEqual([2, 3]);
      expect(decisions).toBe(2);
      const stream = await client.readSubject(topic, subject);
      expect(stream.version).toBe(3);
      expect(new Set(stream.events.map((e) => e.id)).size).toBe(3);
      expect(two.state).toEqual((await counter.load(subject)).state);
    } finally {
      await client.close();
    }
  });

  it("ids derived from the command make a command handled twice a duplicate", async () => {
    const topic = await indexedTopic();
    const counter = plain.aggregate<Counter, { id: string; n: number }>({
      topic,
      initialState: initialCounter,
      evolve: evolveCounter,
      decide: (command) => ({
        type: "counter.added",
        id: `add-${command.id}`,
        data: { n: command.n },
      }),
    });
    const subject = uniqueName("idempotent");
    const first = await counter.handle(subject, { id: "c1", n: 4 });
    expect(first).toMatchObject({ version: 1, duplicate: false });
    await counter.handle(subject, { id: "c2", n: 1 });
    const again = await counter.handle(subject, { id: "c1", n: 4 });
    expect(again).toMatchObject({ version: 2, duplicate: true, state: { total: 5 } });
    expect(again.events).toEqual([{ ...first.events[0], duplicate: true }]);
    expect((await plain.readSubject(topic, subject)).version).toBe(2);
  });

  it("a refused command appends nothing; an event naming another subject is refused", async () => {
    const topic = await indexedTopic();
    const counter = counters(plain, topic);
    const subject = uniqueName("refusing");
    await counter.handle(subject, { close: true });
    await expect(counter.handle(subject, { add: 1 })).rejects.toThrow("the counter is closed");
    const foreign = plain.aggregate<Counter, Command>({
      topic,
      initialState: initialCounter,
      evolve: evolveCounter,
      decide: () => ({ type: "counter.added", subject: "someone-else", data: { n: 1 } }),
    });
    const error = await foreign.handle(subject, { add: 1 }).catch((e: unknown) => e);
    expect((error as SwitchyardClientError).code).toBe("invalid_event");
    expect((await plain.readSubject(topic, subject)).version).toBe(1);
    expect((await plain.readSubject(topic, "someone-else")).version).toBe(0);
  });

  describe.each(stores)("snapshots in $name", (store) => {
    it("saves when the version passes a multiple of `every` and loads from the latest", async () => {
      const topic = await indexedTopic();
      const snapshots = store.create(uniqueName("snaps").replaceAll("-", "_"));
      const recorder = recordingFetch();
      const client = createClient({ url: router.url, fetch: recorder.fetch });
      try {
        const counter = client.aggregate<Counter, Command>({
          topic,
          initialState: initialCounter,
          evolve: evolveCounter,
          decide: decideCounter,
          snapshots: { store: snapshots, every: 5 },
        });
        const subject = uniqueName("snapped");
        for (let i = 1; i <= 4; i++) await counter.handle(subject, { add: i });
        expect(await snapshots.load(topic, subject)).toBeUndefined();
        await counter.handle(subject, { addTwice: 5 }); // 4 → 6 passes 5
        expect((await snapshots.load(topic, subject))?.version).toBe(6);
        for (let i = 0; i < 5; i++) await counter.handle(subject, { add: 1 }); // 7..11
        const saved = await snapshots.load(topic, subject);
        expect(saved?.version).toBe(10);

        recorder.requests.length = 0;
        const loaded = await counter.load(subject);
        // Only the events after the snapshot are read.
        const reads = recorder.requests.filter((r) => r.url.includes("/subjects/"));
        expect(reads.map((r) => new URL(r.url).searchParams.get("fromVersion"))).toEqual(["11"]);
        const full = await counters(plain, topic).load(subject);
        expect(loaded).toEqual(full);
        expect(loaded).toMatchObject({ version: 11, state: { total: 25 } });
      } finally {
        await client.close();
      }
    });

    it("ignores a snapshot beyond the stream (a recreated topic) and replaces it", async () => {
      const topic = await indexedTopic();
      const snapshots = store.create(uniqueName("stale").replaceAll("-", "_"));
      const counter = plain.aggregate<Counter, Command>({
        topic,
        initialState: initialCounter,
        evolve: evolveCounter,
        decide: decideCounter,
        snapshots: { store: snapshots, every: 2 },
      });
      const subject = uniqueName("recreated");
      for (let i = 0; i < 3; i++) await counter.handle(subject, { add: 10 });
      await snapshots.save(topic, subject, 50, { total: -1, closed: true, seen: ["gone"] });
      const loaded = await counter.load(subject);
      expect(loaded).toEqual(await counters(plain, topic).load(subject));
      expect(loaded.state.total).toBe(30);
      const next = await counter.handle(subject, { add: 1 });
      expect(next).toMatchObject({ version: 4, state: { total: 31 } });
      expect(await snapshots.load(topic, subject)).toEqual({ version: 4, state: next.state });
    });
  });
}

describe("aggregates on the embedded engine", () => {
  aggregateSuite("sqlite", () => startTestRouter());
});

describe.runIf(natsServerAvailable())("aggregates on NATS", () => {
  let nats: NatsServers;
  beforeAll(async () => {
    nats = await startNatsServer();
  }, 60_000);
  afterAll(async () => {
    await nats?.close();
  });
  aggregateSuite("nats", () =>
    startTestRouter({
      engine: "nats",
      nats: { url: nats.url, prefix: `AG${uniqueName("").replaceAll("-", "")}` },
      secretKeys: TEST_SECRET_KEY,
    }),
  );
});
