/**
 * Child process for the SQLite engine's crash test (`src/engine/sqlite/crash.int.test.ts`):
 * opens the store in argv[2], publishes batches and consumes them with key ordering, and
 * reports on stdout, as JSON lines, every step only AFTER the engine answered it. The parent
 * kills it with SIGKILL at random moments and checks the store against the reports.
 * Run: node --import ./test/support/ts-resolve.ts test/support/sqlite-crash-child.ts <dir> <run>
 */
import { SUBSCRIPTION_DEFAULTS } from "../../src/core/config.js";
import type { Engine } from "../../src/engine/engine.js";
import { openSqliteEngine } from "../../src/engine/sqlite/index.js";

const [dir = "", run = "r"] = process.argv.slice(2);
const say = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

async function prepare(engine: Engine): Promise<void> {
  for (const name of ["t", "t.dlq"])
    if ((await engine.log.getTopic(name)) === null)
      await engine.log.putTopic({
        name,
        retention: {},
        dedupeWindowMs: 300_000,
        maxEventBytes: 1e6,
      });
  if ((await engine.cursors.getSubscription("s")) === null)
    await engine.cursors.putSubscription({
      name: "s",
      topic: "t",
      filter: null,
      start: "earliest",
      ackTimeoutMs: 1_000,
      maxAttempts: 1_000,
      backoff: { ...SUBSCRIPTION_DEFAULTS.backoff },
      deadLetterTopic: "t.dlq",
      ordering: "key",
      maxInFlight: 1_000,
      push: null,
    });
}

async function produce(engine: Engine): Promise<void> {
  for (let batch = 0; ; batch++) {
    const events = Array.from({ length: 20 }, (_, i) => {
      const id = `${run}-${batch}-${i}`;
      const key = `k${(batch + i) % 5}`;
      const body = JSON.stringify({
        specversion: "1.0",
        id,
        source: "/crash",
        type: "t",
        partitionkey: key,
      });
      return { id, source: "/crash", key, body };
    });
    await engine.log.append("t", events);
    say({ appended: events.map((e) => e.id) });
  }
}

async function consume(engine: Engine): Promise<void> {
  for (;;) {
    const deliveries = await engine.cursors.lease("s", { max: 50, waitMs: 20 });
    if (deliveries.length === 0) continue;
    say({ leased: deliveries.map((d) => [d.record.offset, d.record.key]) });
    const ackIds = deliveries.map((d) => d.ackId);
    say({ acking: deliveries.map((d) => d.record.offset) });
    const results = await engine.cursors.ack("s", ackIds);
    say({
      acked: deliveries.filter((_, i) => results[i]?.status === "ok").map((d) => d.record.offset),
    });
  }
}

const engine = await openSqliteEngine({ dir });
await prepare(engine);
say({ ready: true });
await Promise.all([produce(engine), consume(engine)]);
