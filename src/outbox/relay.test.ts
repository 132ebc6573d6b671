import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databasePerFile } from "../../test/support/postgres.js";
import { routerPerFile, uniqueName } from "../../test/support/router.js";
import { createClient, createOutbox, type StoredEvent } from "../client/index.js";
import { initOutbox, OutboxRelay, RelayRefused } from "./relay.js";

const database = databasePerFile();
const router = routerPerFile({ autoCreateTopics: true });
const pools: pg.Pool[] = [];
let pool: pg.Pool;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: database.url, max: 8 });
  // Dropping the database ends idle pooled sessions: the pool reports it, nobody needs to.
  pool.on("error", () => undefined);
  pools.push(pool);
});
afterAll(async () => {
  for (const p of pools) await p.end();
});

async function readLog(topic: string): Promise<StoredEvent[]> {
  const client = createClient({ url: router.url });
  const events: StoredEvent[] = [];
  for (let from = 1; ; ) {
    const page = await client.admin.read(topic, { from, limit: 1000 }).catch((error: unknown) => {
      if ((error as { code?: string }).code === "topic_not_found")
        return { events: [], next: from };
      throw error;
    });
    if (page.events.length === 0) return events;
    events.push(...page.events);
    from = page.next;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** A table of its own and a relay on it. */
async function setUp(options: { force?: boolean } = {}) {
  const table = uniqueName("ob").replaceAll("-", "_");
  const topic = uniqueName("orders");
  await initOutbox(database.url, table);

  const outbox = createOutbox({ table, source: "test-app" });
  const start = async () => {
    const relay = await OutboxRelay.start({
      postgres: database.url,
      table,
      router: { url: router.url },
      log: (line) => console.error(line),
      ...options,
    });
    relay.done.catch((error: unknown) => console.error("RELAY FAILED", error));
    return relay;
  };
  return { table, topic, outbox, start };
}

async function inTransaction(fn: (tx: pg.PoolClient) => Promise<void>): Promise<void> {
  const tx = await pool.connect();
  try {
    await tx.query("BEGIN");
    await fn(tx);
    await tx.query("COMMIT");
  } catch (error) {
    await tx.query("ROLLBACK");
    throw error;
  } finally {
    tx.release();
  }
}

/** Committed rows in id order: [rowId, eventId, key]. */
async function committedRows(table: string) {
  const { rows } = await pool.query<{ id: string; event: { id: string; partitionkey?: string } }>(
    `SELECT id, event FROM ${table} ORDER BY id`,
  );
  return rows.map((row) => ({
    row: Number(row.id),
    id: row.event.id,
    key: row.event.partitionkey ?? null,
  }));
}

/**
 * The log equals the outbox: every committed row exactly once, and the rows of each ordering
 * key in id order (events of different keys may interleave: the SDK sends keys in parallel).
 */
async function expectLogEqualsOutbox(table: string, topic: string) {
  const rows = await committedRows(table);
  const log = await readLog(topic);

  expect(new Set(log.map((e) => e.id)).size, "no duplicates").toBe(log.length);
  expect([...log.map((e) => e.id)].sort(), "each committed row").toEqual(
    rows.map((r) => r.id).sort(),
  );
  const perKey = (items: { id: string; key: string | null }[]) => {
    const keys = new Map<string, string[]>();
    for (const item of items)
      if (item.key !== null) keys.set(item.key, [...(keys.get(item.key) ?? []), item.id]);
    return Object.fromEntries(keys);
  };
  expect(
    perKey(log.map((e) => ({ id: e.id, key: (e.partitionkey as string | undefined) ?? null }))),
  ).toEqual(perKey(rows));
  return rows.length;
}

describe("outbox relay", () => {
  it("publishes each committed row once, with its event id, and nothing rolled back", async () => {
    const { topic, outbox, start } = await setUp();
    const ids: string[] = [];
    await inTransaction(async (tx) => {
      await tx.query("SELECT 1");
      ids.push(
        (
          await outbox.enqueue(tx, {
            topic,
            type: "order.placed",
            data: { n: 1 },
            partitionkey: "a",
          })
        ).id,
      );
      ids.push(
        (
          await outbox.enqueue(tx, {
            topic,
            type: "order.placed",
            data: { n: 2 },
            partitionkey: "a",
          })
        ).id,
      );
    });
    await expect(
      inTransaction(async (tx) => {
        await outbox.enqueue(tx, { topic, type: "order.placed", data: { n: 3 } });
        throw new Error("the application fails");
      }),
    ).rejects.toThrow("the application fails");
    const relay = await start();
    await waitFor("two events", async () => (await relay.status()).publishedTo >= 3);
    const log = await readLog(topic);
    expect(log.map((e) => [e.id, e.source, e.data])).toEqual([
      [ids[0], "test-app", { n: 1 }],
      [ids[1], "test-app", { n: 2 }],
    ]);
    expect(await relay.status()).toMatchObject({ published: 2, duplicates: 0, pending: 0 });
    await relay.stop();
  });

  it("refuses bad events at enqueue, inside the application's transaction", async () => {
    const { topic, outbox } = await setUp();
    await expect(
      inTransaction((tx) => outbox.enqueue(tx, { topic, type: "t", offset: 3 }).then(() => {})),
    ).rejects.toMatchObject({ code: "reserved_attribute" });
    await expect(
      inTransaction((tx) => outbox.enqueue(tx, { topic: "bad topic", type: "t" }).then(() => {})),
    ).rejects.toMatchObject({ code: "invalid_name" });
  });

  it("never skips a row that commits after a row with a higher id", async () => {
    const { table, topic, outbox, start } = await setUp();
    const relay = await start();
    const early = await pool.connect();
    await early.query("BEGIN");
    const low = await outbox.enqueue(early, { topic, type: "t", partitionkey: "k", data: "low" });
    // Let the relay poll while the lower id is taken but uncommitted (the moment a cursor
    // over ids, or one waiting on a snapshot's xmax, would move past it).
    await new Promise((done) => setTimeout(done, 200));
    const high = await inTransaction(async (tx) => {
      await outbox.enqueue(tx, { topic, type: "t", partitionkey: "k", data: "high" });
    }).then(() => committedRows(table));
    expect(high).toHaveLength(1); // only the higher id is committed yet
    // The relay sees the higher row but holds it back while a lower id may still commit.
    await new Promise((done) => setTimeout(done, 300));
    expect(await readLog(topic)).toEqual([]);
    expect((await relay.status()).pending).toBe(1);
    await early.query("COMMIT");
    early.release();
    await waitFor("both rows", async () => (await readLog(topic)).length === 2);
    const log = await readLog(topic);
    expect(log.map((e) => e.data)).toEqual(["low", "high"]);
    expect(log[0]?.id).toBe(low.id);
    await relay.stop();
  });

  it("is exactly once, in id order, under concurrent writers committing out of order", async () => {
    const { table, topic, outbox, start } = await setUp();
    const relay = await start();
    const writers = Array.from({ length: 6 }, async (_, w) => {
      for (let t = 0; t < 25; t++) {
        const tx = await pool.connect();
        try {
          await tx.query("BEGIN");
          for (let e = 0; e < 1 + ((w + t) % 3); e++) {
            await outbox.enqueue(tx, {
              topic,
              type: "t",
              partitionkey: `k${(w * 7 + t + e) % 4}`,
              data: { w, t, e },
            });
            await new Promise((done) => setTimeout(done, Math.random() * 8));
          }
          await tx.query(t % 7 === 3 ? "ROLLBACK" : "COMMIT");
        } finally {
          tx.release();
        }
      }
    });
    await Promise.all(writers);
    const rows = await committedRows(table);
    // Some transaction committed after one holding a higher id (the case a plain cursor skips).
    const { rows: commits } = await pool.query<{ out_of_order: boolean }>(
      `SELECT bool_or(a.xid > b.xid) AS out_of_order FROM ${table} a JOIN ${table} b ON a.id < b.id`,
    );
    expect(commits[0]?.out_of_order).toBe(true);
    await waitFor(
      "every row",
      async () =>
        (await relay.status()).pending === 0 && (await readLog(topic)).length >= rows.length,
    );
    expect(await expectLogEqualsOutbox(table, topic)).toBeGreaterThan(100);
    await relay.stop();
  });

  it("lets one relay run at a time (pg_advisory_lock)", async () => {
    const { start } = await setUp();
    const first = await start();
    const second = start();
    await expect(second).rejects.toBeInstanceOf(RelayRefused);
    await expect(second).rejects.toMatchObject({ reason: "locked" });
    await first.stop();
    const third = await start(); // the lock went with the first relay's session
    await third.stop();
  });

  it("restarted mid-stream, leaves no duplicate in the log", async () => {
    const { table, topic, outbox, start } = await setUp();
    await pool.query(
      `INSERT INTO ${table} (topic, event) SELECT $1, json_build_object('specversion', '1.0', 'id', 'e' || g,
         'source', 'bulk', 'type', 't', 'partitionkey', 'k' || (g % 5), 'data', g) FROM generate_series(1, 3000) g`,
      [topic],
    );
    for (let round = 0; round < 3; round++) {
      const relay = await start();
      await waitFor("some progress", async () => (await relay.status()).published > 0);
      await inTransaction(async (tx) => {
        await outbox.enqueue(tx, { topic, type: "t", partitionkey: "k1", data: round });
      });
      await relay.stop();
    }
    // A relay stopped between a send and its cursor update: the next one sends those again.
    const { rows } = await pool.query<{ published_to: string }>(
      `SELECT published_to FROM ${table}_relay`,
    );
    const at = Number(rows[0]?.published_to);
    await pool.query(
      `UPDATE ${table}_relay SET published_to = $1, sending_to = $2, sending_since = now()`,
      [Math.max(0, at - 200), at],
    );
    const last = await start();
    await waitFor(
      "the rest",
      async () => (await last.status()).pending === 0 && (await last.status()).publishedTo >= 3003,
    );
    expect((await last.status()).duplicates).toBe(Math.min(200, at));
    await last.stop();
    expect(await expectLogEqualsOutbox(table, topic)).toBe(3003);
  });

  it("refuses rows that may have been sent longer ago than the dedupe window, unless forced", async () => {
    const { table, topic, outbox, start } = await setUp();
    await createClient({ url: router.url }).admin.topics.put(topic, { dedupeWindowMs: 60_000 });
    await inTransaction(async (tx) => {
      await outbox.enqueue(tx, { topic, type: "t" });
    });
    await pool.query(
      `UPDATE ${table}_relay SET sending_to = 1, sending_since = now() - interval '61 seconds'`,
    );
    await expect(start()).rejects.toMatchObject({ reason: "stale" });
    const forced = await OutboxRelay.start({
      postgres: database.url,
      table,
      router: { url: router.url },
      force: true,
    });
    await waitFor("the row", async () => (await readLog(topic)).length === 1);
    await forced.stop();
  });
});

describe("outbox relay rate and lag (printed; SWITCHYARD_OUTBOX_ROWS sets the backlog)", () => {
  it("drains a backlog and keeps up with steady writers", async () => {
    const { table, topic, outbox, start } = await setUp();
    const backlog = Number(process.env.SWITCHYARD_OUTBOX_ROWS ?? 5_000);
    await pool.query(
      `INSERT INTO ${table} (topic, event) SELECT $1, json_build_object('specversion', '1.0', 'id', 'b' || g,
         'source', 'bulk', 'type', 'order.placed', 'partitionkey', 'k' || (g % 16),
         'data', json_build_object('order', g, 'total', 42.5)) FROM generate_series(1, $2::int) g`,
      [topic, backlog],
    );
    const began = performance.now();
    const relay = await start();
    await waitFor(
      "the backlog",
      async () => (await relay.status()).publishedTo >= backlog,
      120_000,
    );
    const drainRate = backlog / ((performance.now() - began) / 1000);

    // Steady load: 4 writers, one event per transaction, as fast as they go for 3 s.
    const lags: number[] = [];
    let writing = true;
    let written = 0;
    const sampler = (async () => {
      while (writing) {
        lags.push((await relay.status()).oldestPendingMs ?? 0);
        await new Promise((done) => setTimeout(done, 100));
      }
    })();
    const writers = Array.from({ length: 4 }, async (_, w) => {
      while (writing) {
        await inTransaction(async (tx) => {
          await outbox.enqueue(tx, { topic, type: "t", partitionkey: `w${w}`, data: written });
        });
        written++;
      }
    });
    await new Promise((done) => setTimeout(done, 3_000));
    writing = false;
    await Promise.all([...writers, sampler]);
    await waitFor("the steady rows", async () => (await relay.status()).pending === 0);
    await relay.stop();
    lags.sort((a, b) => a - b);
    const p50 = lags[Math.floor(lags.length / 2)] ?? 0;
    const max = lags.at(-1) ?? 0;
    console.log(
      `outbox relay: backlog of ${backlog} drained at ${drainRate.toFixed(0)} events/s; steady load ${(written / 3).toFixed(0)} tx/s: lag (age of the oldest pending row) p50 ${p50} ms, max ${max} ms`,
    );
    expect(written).toBeGreaterThan(0);
    expect(await expectLogEqualsOutbox(table, topic)).toBe(backlog + written);
  }, 180_000);
});
