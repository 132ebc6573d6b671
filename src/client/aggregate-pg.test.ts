/**
 * `client.aggregate` with `pgAggregateStore` on the machine's PostgreSQL (a fresh database
 * per run): the stream and its outbox rows commit together, concurrent handlers of one
 * subject each win one version, a conflict is decided again, a rollback leaves nothing, a
 * repeated decision is a duplicate, snapshots work, and the relay puts in the router's log
 * exactly what the table holds.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databasePerFile } from "../../test/support/postgres.js";
import { routerPerFile, uniqueName } from "../../test/support/router.js";
import type { StoredEvent } from "../core/event.js";
import { initOutbox, OutboxRelay } from "../outbox/relay.js";
import type { AggregateStore } from "./aggregate.js";
import { pgAggregateStore } from "./aggregate-pg.js";
import { createClient } from "./client.js";
import { SwitchyardClientError } from "./errors.js";
import type { PgPoolLike } from "./inbox.js";
import type { EventInput } from "./publisher.js";
import { pgSnapshotStore } from "./snapshot-store.js";

const database = databasePerFile();
const router = routerPerFile();
let pool: pg.Pool;
const OUTBOX = "agg_outbox";
const SOURCE = "/test/aggregate-pg";

beforeAll(async () => {
  await initOutbox(database.url, OUTBOX);
  pool = new pg.Pool({ connectionString: database.url, max: 10 });
  // Dropping the database ends idle pooled sessions: the pool reports it, nobody needs to.
  pool.on("error", () => undefined);
});
afterAll(async () => {
  await pool?.end();
});

type Command = { readonly add: number; readonly id?: string } | { readonly close: true };
interface Counter {
  readonly total: number;
  readonly closed: boolean;
  readonly seen: readonly string[];
}
const initialState = (): Counter => ({ total: 0, closed: false, seen: [] });
const evolve = (state: Counter, event: StoredEvent): Counter => {
  const seen = [...state.seen, `${event.id}/${event.subjectversion}`];
  if (event.type === "counter.closed") return { ...state, closed: true, seen };
  return { ...state, total: state.total + (event.data as { n: number }).n, seen };
};
const decide = (command: Command, state: Counter): EventInput | EventInput[] => {
  if (state.closed) throw new Error("the counter is closed");
  if ("close" in command) return { type: "counter.closed" };
  return { type: "counter.added", data: { n: command.add }, ...(command.id && { id: command.id }) };
};

// The pg store never asks the router anything: the client only builds the events.
const client = () => createClient({ url: router.url, source: SOURCE });

function store(table = "agg_events") {
  return pgAggregateStore<pg.PoolClient>(pool, { table, outbox: { table: OUTBOX } });
}

async function rowsOf(topic: string, subject: string) {
  const { rows } = await pool.query<{ version: string; id: string; source: string }>(
    "SELECT version, id, source FROM agg_events WHERE topic = $1 AND subject = $2 ORDER BY version",
    [topic, subject],
  );
  return rows.map((r) => ({ version: Number(r.version), id: r.id, source: r.source }));
}

async function outboxOf(topic: string, subject: string) {
  const { rows } = await pool.query<{ event: { id: string; source: string; type: string } }>(
    `SELECT event FROM ${OUTBOX} WHERE topic = $1 AND event->>'subject' = $2 ORDER BY id`,
    [topic, subject],
  );
  return rows.map((r) => r.event);
}

describe("pgAggregateStore", () => {
  it("appends at the next versions with an outbox row each; the relay puts the same events in the log", async () => {
    const topic = uniqueName("counters");
    await client().admin.topics.put(topic, { indexes: ["subject"] });
    const counters = client().aggregate({ topic, initialState, evolve, decide, store: store() });
    const first = await counters.handle("c-1", { add: 2 });
    expect(first).toMatchObject({ version: 1, duplicate: false, state: { total: 2 } });
    expect(first.events[0]).toMatchObject({ duplicate: false, subjectVersion: 1 });
    await counters.handle("c-1", { add: 3 });
    await counters.handle("c-1", { close: true });
    const rows = await rowsOf(topic, "c-1");
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3]);
    expect(rows.every((r) => r.source === SOURCE)).toBe(true);
    const outboxed = await outboxOf(topic, "c-1");
    expect(outboxed.map((e) => [e.id, e.source])).toEqual(rows.map((r) => [r.id, r.source]));
    expect(await counters.load("c-1")).toEqual({
      state: { total: 5, closed: true, seen: rows.map((r) => `${r.id}/${r.version}`) },
      version: 3,
    });

    const relay = await OutboxRelay.start({
      postgres: database.url,
      table: OUTBOX,
      router: { url: router.url },
      log: () => undefined,
    });
    try {
      const reader = client().aggregate({ topic, initialState, evolve, decide });
      const deadline = Date.now() + 20_000;
      while ((await reader.load("c-1")).version < 3 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      // The router's subject stream holds the table's events at the table's versions.
      expect((await reader.load("c-1")).state.seen).toEqual(
        rows.map((r) => `${r.id}/${r.version}`),
      );
    } finally {
      await relay.stop();
    }
  });

  it("concurrent handlers of one subject: each version won once, no decision lost", async () => {
    const topic = uniqueName("counters");
    const counters = client().aggregate({
      topic,
      initialState,
      evolve,
      decide,
      store: store(),
      maxAttempts: 50,
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => counters.handle("hot", { add: i + 1 })),
    );
    const won = results.map((r) => r.events[0]?.subjectVersion).sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(won).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await rowsOf(topic, "hot")).map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await counters.load("hot")).state.total).toBe(36);
    expect(await outboxOf(topic, "hot")).toHaveLength(8);
  });

  it("a conflict is decided again on the new state", async () => {
    const topic = uniqueName("counters");
    const other = client().aggregate({ topic, initialState, evolve, decide, store: store() });
    const seenVersions: number[] = [];
    const counters = client().aggregate({
      topic,
      initialState,
      evolve,
      store: store(),
      decide: async (command: Command, state: Counter, { version }) => {
        seenVersions.push(version);
        // Another writer appends between this load and its append, once.
        if (seenVersions.length === 1) await other.handle("c", { close: true });
        return decide(command, state);
      },
    });
    await expect(counters.handle("c", { add: 1 })).rejects.toThrow("the counter is closed");
    expect(seenVersions).toEqual([0, 1]);
    expect((await rowsOf(topic, "c")).map((r) => r.version)).toEqual([1]);
    expect(await outboxOf(topic, "c")).toHaveLength(1);
  });

  it("runs inTransaction in the append's transaction: a failure rolls back events, outbox rows and its writes", async () => {
    const topic = uniqueName("counters");
    await pool.query("CREATE TABLE IF NOT EXISTS side (k text PRIMARY KEY)");
    const counters = client().aggregate({ topic, initialState, evolve, decide, store: store() });
    const told: number[] = [];
    await counters.handle(
      "c",
      { add: 1 },
      {
        inTransaction: async (tx, decided) => {
          told.push(decided.expectedVersion, decided.events.length);
          await tx.query("INSERT INTO side (k) VALUES ($1)", [`${topic}-ok`]);
        },
      },
    );
    await expect(
      counters.handle(
        "c",
        { add: 2 },
        {
          inTransaction: async (tx) => {
            await tx.query("INSERT INTO side (k) VALUES ($1)", [`${topic}-lost`]);
            throw new Error("the side write failed");
          },
        },
      ),
    ).rejects.toThrow("the side write failed");
    // A unique violation of the application's own is its error, not a version conflict.
    const own = await counters
      .handle(
        "c",
        { add: 3 },
        {
          inTransaction: (tx) =>
            tx.query("INSERT INTO side (k) VALUES ($1)", [`${topic}-ok`]).then(() => undefined),
        },
      )
      .catch((error: unknown) => error);
    expect(own).not.toBeInstanceOf(SwitchyardClientError);
    expect((own as { code?: string }).code).toBe("23505");
    expect(told).toEqual([0, 1]);
    expect((await rowsOf(topic, "c")).map((r) => r.version)).toEqual([1]);
    expect(await outboxOf(topic, "c")).toHaveLength(1);
    const { rows } = await pool.query("SELECT k FROM side WHERE k LIKE $1 ORDER BY k", [
      `${topic}-%`,
    ]);
    expect(rows).toEqual([{ k: `${topic}-ok` }]);
  });

  it("answers a repeated decision as a duplicate and appends nothing", async () => {
    const topic = uniqueName("counters");
    const pgStore = store();
    const counters = client().aggregate({ topic, initialState, evolve, decide, store: pgStore });
    let sideWrites = 0;
    const inTransaction = async () => {
      sideWrites += 1;
    };
    const first = await counters.handle("c", { add: 5, id: "pay-1" }, { inTransaction });
    // The same command again: decide gives the same id, the store has it.
    const again = await counters.handle("c", { add: 5, id: "pay-1" }, { inTransaction });
    expect(again).toMatchObject({ duplicate: true, version: 1, state: { total: 5 } });
    expect(again.events).toEqual([{ ...first.events[0], duplicate: true }]);
    expect(sideWrites).toBe(1);
    // An append sent again as it was (a lost answer): a duplicate at its versions.
    const built = client().aggregate({ topic, initialState, evolve, decide, store: pgStore });
    await built.handle("c", { add: 1, id: "a" });
    const [event] = (await pgStore.read(topic, "c", { fromVersion: 2, limit: 1 })).events;
    const {
      topic: _t,
      offset: _o,
      appendedat: _a,
      subjectversion: _v,
      ...sent
    } = event as StoredEvent;
    expect(await pgStore.append(topic, "c", [sent], 1)).toEqual([
      { id: "a", offset: expect.any(Number), duplicate: true, subjectVersion: 2 },
    ]);
    // Part of a decision repeated: refused whole, not half-appended.
    const partial = (await pgStore
      .append(topic, "c", [sent, { ...sent, id: "b" }], 2)
      .catch((error: unknown) => error)) as SwitchyardClientError;
    expect(partial.code).toBe("conflict");
    // At a stale version: a version conflict, with the stream's version.
    const stale = (await pgStore
      .append(topic, "c", [{ ...sent, id: "c" }], 1)
      .catch((error: unknown) => error)) as SwitchyardClientError;
    expect(stale.code).toBe("version_conflict");
    expect(stale.problem.currentVersion).toBe(2);
    expect((await rowsOf(topic, "c")).map((r) => r.id)).toEqual(["pay-1", "a"]);
    expect(await outboxOf(topic, "c")).toHaveLength(2);
  });

  it("sends an append again when COMMIT's answer is lost: committed, it is a duplicate; not, it is appended once", async () => {
    const topic = uniqueName("counters");
    await pool.query("CREATE TABLE IF NOT EXISTS side (k text PRIMARY KEY)");
    /** A pool whose next COMMIT fails as a dropped connection, after (or before) the server got it. */
    const losing = (when: "after" | "before"): PgPoolLike & { armed: boolean } => {
      const wrapper = {
        armed: true,
        async connect() {
          const real = await pool.connect();
          return {
            query: async (text: string, values?: unknown[]) => {
              if (text !== "COMMIT" || !wrapper.armed) return real.query(text, values);
              wrapper.armed = false;
              if (when === "after") await real.query(text);
              throw new Error("Connection terminated unexpectedly");
            },
            release: (error?: Error | boolean) => real.release(error),
          };
        },
      };
      return wrapper;
    };
    let runs = 0;
    for (const when of ["after", "before"] as const) {
      const counters = client().aggregate({
        topic,
        initialState,
        evolve,
        decide,
        store: pgAggregateStore<pg.PoolClient>(losing(when), {
          table: "agg_events",
          outbox: { table: OUTBOX },
        }),
      });
      const result = await counters.handle(
        when,
        { add: 1 },
        {
          inTransaction: async (tx) => {
            runs += 1;
            await tx.query("INSERT INTO side (k) VALUES ($1)", [`${topic}-${when}-${runs}`]);
          },
        },
      );
      expect(result).toMatchObject({ version: 1, duplicate: when === "after" });
      expect((await rowsOf(topic, when)).map((r) => r.version)).toEqual([1]);
      expect(await outboxOf(topic, when)).toHaveLength(1);
    }
    // Once for the committed one; twice for the other, whose first transaction rolled back.
    expect(runs).toBe(3);
    const { rows } = await pool.query("SELECT k FROM side WHERE k LIKE $1 ORDER BY k", [
      `${topic}-%`,
    ]);
    expect(rows).toEqual([{ k: `${topic}-after-1` }, { k: `${topic}-before-3` }]);
  });

  it("keeps snapshots working: a load reads only the events after the latest one", async () => {
    const topic = uniqueName("counters");
    const pgStore = store();
    const reads: number[] = [];
    const counting: AggregateStore<pg.PoolClient> = {
      read: (t, s, options) => {
        reads.push(options.fromVersion);
        return pgStore.read(t, s, options);
      },
      append: (...args) => pgStore.append(...args),
    };
    const snapshots = pgSnapshotStore<Counter>(pool, { table: "agg_snapshots" });
    const counters = client().aggregate({
      topic,
      initialState,
      evolve,
      decide,
      store: counting,
      snapshots: { store: snapshots, every: 2 },
    });
    for (let n = 1; n <= 5; n++) await counters.handle("c", { add: n });
    expect((await snapshots.load(topic, "c"))?.version).toBe(4);
    reads.length = 0;
    expect((await counters.load("c")).state.total).toBe(15);
    expect(reads).toEqual([5]);
  });

  it("the router store refuses inTransaction: it has no transaction", async () => {
    const topic = uniqueName("t");
    await client().admin.topics.put(topic, { indexes: ["subject"] });
    const counters = client().aggregate({ topic, initialState, evolve, decide });
    await expect(
      // @ts-expect-error: with the router as store, inTransaction does not type-check either.
      counters.handle("c", { add: 1 }, { inTransaction: async () => undefined }),
    ).rejects.toThrow("the router has none");
    expect(await counters.load("c")).toMatchObject({ version: 0 });
  });
});
