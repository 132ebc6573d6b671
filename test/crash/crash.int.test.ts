/**
 * SIGKILL under load: a child router (the real CLI, fsync always) takes continuous batched
 * publishes and pull consumption with acks on a key-ordered subscription, and is killed at
 * random moments and restarted on the same data directory. Afterwards: every publish answered
 * 201 is in the log exactly once, every event reached the subscription, nothing acked came
 * back, per-key order held. Short by default (3 kills, part of `npm test`);
 * `SWITCHYARD_CRASH_LONG=1` (`npm run test:crash`) kills it 25 times.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";
import { checkDeliveries, checkLog } from "./checks.js";
import { Consumer } from "./consumer.js";
import { backlogReport } from "./diagnosis.js";
import { drained } from "./drained.js";
import { callUntilAnswered } from "./http.js";
import { LoadLoops } from "./load-loops.js";
import { Producer } from "./producer.js";
import { readWholeLog } from "./read-log.js";

const LONG = process.env.SWITCHYARD_CRASH_LONG === "1";
const KILLS = LONG ? 25 : 3;
const PRODUCERS = 4;
const KEYS_PER_PRODUCER = 8;
/** Publishers pause while this many confirmed events wait for their first delivery. */
const MAX_BACKLOG = 5_000;

describe("crash: SIGKILL under load", () => {
  let router: RouterProcess | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await router?.kill();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    `keeps every 201 exactly once and key order across ${KILLS} kills`,
    async () => {
      dataDir = await mkdtemp(join(tmpdir(), "switchyard-crash-"));
      const live = await startRouterProcess({ dataDir, fsync: "always" });
      router = live;
      const name = `crash-${randomBytes(4).toString("hex")}`;
      await setUp(live.url, name);

      const producers = Array.from(
        { length: PRODUCERS },
        (_, p) => new Producer(`${name}-p${p}`, live.url, name, keysOf(p)),
      );
      const consumer = new Consumer(live.url, name);
      const loops = new LoadLoops();
      const confirmedCount = (): number => producers.reduce((n, p) => n + p.stats.events, 0);
      const behind = (): boolean => confirmedCount() - consumer.delivered.size > MAX_BACKLOG;
      loops.start("publish", () =>
        Promise.all(producers.map((p) => p.run(() => loops.stopPublishing, behind))),
      );
      loops.start("consume", () => consumer.run(() => loops.stopConsuming));
      const diagnose = (): Promise<string> => backlogReport(live, name, producers, consumer);

      const started = Date.now();
      for (let kill = 0; kill < KILLS; kill++) {
        await loops.progress(confirmedCount, () => consumer.observed.length, diagnose);
        await live.restart();
      }
      await loops.progress(confirmedCount, () => consumer.observed.length, diagnose);
      loops.stopPublishing = true;
      await loops.finished("publish");

      const confirmed = producers.flatMap((p) => p.confirmed);
      await drained(
        live.url,
        name,
        () => consumer.delivered.size,
        confirmed.length,
        loops,
        diagnose,
      );
      loops.stopConsuming = true;
      await loops.finished("consume");
      const log = await readWholeLog(live.url, name);

      printSummary(live, producers, consumer, log.length, Date.now() - started);
      expect(checkLog(log, confirmed)).toEqual([]);
      expect(checkDeliveries(log, consumer.observed)).toEqual([]);
      expect(consumer.redeliveredAfterAck).toEqual([]);
      expect(live.starts).toBe(KILLS + 1);
    },
    LONG ? 1_200_000 : 120_000,
  );
});

function keysOf(producer: number): string[] {
  return Array.from({ length: KEYS_PER_PRODUCER }, (_, k) => `key-${producer}-${k}`);
}

async function setUp(url: string, name: string): Promise<void> {
  // A dedupe window longer than the test, so every retry is recognised.
  await callUntilAnswered(`${url}/v1/topics/${name}`, "PUT", { dedupeWindowMs: 3_600_000 }, [201]);
  await callUntilAnswered(
    `${url}/v1/subscriptions/${name}`,
    "PUT",
    // Short leases bring back what a crash left in flight quickly; attempts never run out.
    { topic: name, start: "earliest", ordering: "key", ackTimeoutMs: 1_000, maxAttempts: 1_000 },
    [201],
  );
}

function printSummary(
  router: RouterProcess,
  producers: readonly Producer[],
  consumer: Consumer,
  logged: number,
  elapsedMs: number,
): void {
  const sum = (pick: (p: Producer) => number): number => producers.reduce((n, p) => n + pick(p), 0);
  const distinct = new Set(consumer.observed.map((o) => o.id)).size;
  const lines = [
    `crash test: ${router.starts - 1} kills in ${(elapsedMs / 1000).toFixed(1)} s`,
    `  published: ${sum((p) => p.stats.events)} events in ${sum((p) => p.stats.batches)} batches answered 201; log holds ${logged}`,
    `  lost answers: ${sum((p) => p.stats.lostAnswers)} publish requests; ${sum((p) => p.stats.retriedBatches)} batches retried, ${sum((p) => p.stats.duplicatesOnRetry)} events found already stored by the retry`,
    `  delivered: ${consumer.observed.length} deliveries of ${distinct} events (${consumer.observed.length - distinct} redeliveries); ${consumer.stats.lostAcks} acks and ${consumer.stats.lostPulls} pulls lost, ${consumer.stats.notOk} acks not ok`,
  ];
  console.log(lines.join("\n"));
}
