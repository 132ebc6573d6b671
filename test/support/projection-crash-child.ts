/**
 * Child process for the projection crash test (`test/crash/projection.int.test.ts`): runs a
 * projection of `topic` into the SQLite file `db` until killed. Each application of an event
 * inserts a row into `applied` (no key: a second application shows as a second row), and the
 * handler yields between its writes so a SIGKILL can land inside the transaction too, and
 * each commit's acks are held back so it often lands between a commit and its acks.
 * Run: node --import ./test/support/ts-resolve.ts test/support/projection-crash-child.ts <url> <db> <topic> <name>
 */
import { DatabaseSync } from "node:sqlite";
import { createClient, projection, sqliteProjectionStore } from "../../src/client/index.js";

const [url = "", file = "", topic = "", name = ""] = process.argv.slice(2);
const db = new DatabaseSync(file);
db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000");
const base = sqliteProjectionStore(db, {
  tables: {
    applied:
      "CREATE TABLE {applied} (offset INTEGER NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL)",
    counts: "CREATE TABLE {counts} (key TEXT PRIMARY KEY, n INTEGER NOT NULL)",
  },
});
// Holds each commit's answer (so its acks) back a little: the window between a commit and
// its acks, where a kill leaves applied events to be delivered again, is most of the time.
const store: typeof base = {
  ...base,
  internal: {
    ...base.internal,
    driver: {
      dialect: base.internal.driver.dialect,
      async transaction(fn) {
        const result = await base.internal.driver.transaction(fn);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 60));
        return result;
      },
    },
  },
};
const client = createClient({ url });
const p = projection({
  client,
  name,
  subscription: { topic, ackTimeoutMs: 1_000 },
  store,
  batchSize: 20,
  concurrency: 50,
  handlers: {
    step: async (event, tx) => {
      const data = event.data as { key: string; seq: number };
      tx.run("INSERT INTO {applied} (offset, key, seq) VALUES (?, ?, ?)", [
        event.offset,
        data.key,
        data.seq,
      ]);
      await new Promise((resolve) => setImmediate(resolve));
      tx.run(
        "INSERT INTO {counts} (key, n) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1",
        [data.key],
      );
    },
  },
  onError: () => {},
});
await p.start();
process.stdout.write("started\n");
