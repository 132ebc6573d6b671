/**
 * Soak: a child router (the real CLI, fsync always) under mixed, rate-bounded load for a
 * while, killed with SIGKILL at a fixed period and restarted on the same data directory.
 * Load: batched publishes across many keys; a key-ordered pull subscription consumed with
 * acks and some nacks; a key-ordered push subscription to a local endpoint that fails some
 * first requests (503, retried) and all requests of "poisoned" events until they have been
 * dead-lettered, after which a periodic redrive brings them back and they are delivered.
 * Just before each kill the child's RSS and open fds are sampled (the most grown point of
 * that process). Afterwards: every 201 is in the log exactly once, every event reached both
 * subscriptions, nothing acked came back, per-key order held on both, every dead letter was
 * redriven and delivered, and RSS and fds stayed flat from cycle 3 to the last.
 *
 * Short by default (1 minute, a kill every 15 s; part of `npm test`); `npm run test:soak`
 * sets `SWITCHYARD_SOAK_MINUTES=30` (a kill every minute). The per-cycle table is printed
 * and written as JSON to `SWITCHYARD_SOAK_REPORT` (default: a file in the temp directory).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkDeliveries, checkLog } from "../crash/checks.js";
import { Consumer } from "../crash/consumer.js";
import { backlogReport } from "../crash/diagnosis.js";
import { drained } from "../crash/drained.js";
import { callUntilAnswered, pause } from "../crash/http.js";
import { LoadLoops, withDiagnosis } from "../crash/load-loops.js";
import { Producer } from "../crash/producer.js";
import { readWholeLog } from "../crash/read-log.js";
import { eventually } from "../support/eventually.js";
import { procUsage } from "../support/proc-usage.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";
import { PushEndpoint, poisonedOneIn } from "./push-endpoint.js";
import { Redriver } from "./redriver.js";
import { type RestartStats, restartCountingLockRefusals } from "./restart.js";
import { checkFlat, directoryBytes, type Sample, SOAK_LIMITS, usageTable } from "./usage.js";

const MINUTES = Number(process.env.SWITCHYARD_SOAK_MINUTES ?? "1");
const LONG = MINUTES > 1;
const KILL_EVERY_MS = LONG ? 60_000 : 15_000;
const CYCLES = Math.max(1, Math.round((MINUTES * 60_000) / KILL_EVERY_MS));
/** Events per second the producers publish at most, all together. */
const RATE = Number(process.env.SWITCHYARD_SOAK_RATE ?? "250");
const PRODUCERS = 4;
/** Many keys: under key ordering each key has one push request in flight at a time. */
const KEYS_PER_PRODUCER = 16;
/**
 * Publishers also pause while either subscription is this many events behind; what bounds
 * the final drain (the short form keeps it small to stay short).
 */
const MAX_BACKLOG = LONG ? 5_000 : 1_500;
const NACK_RATIO = 0.02;
const FAIL_FIRST_RATIO = 0.1;
const POISON_ONE_IN = 100;
const PUSH_MAX_ATTEMPTS = 4;
const REDRIVE_EVERY_MS = 10_000;
const DRAIN_MS = 180_000;

describe("soak: mixed load with a SIGKILL every period", () => {
  let router: RouterProcess | undefined;
  let endpoint: PushEndpoint | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await router?.kill();
    await endpoint?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    `${MINUTES} min at ≤ ${RATE} events/s, ${CYCLES} kills: nothing lost, all delivered, order held, RSS and fds flat`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "switchyard-soak-"));
      dataDir = dir;
      const push = await PushEndpoint.start({
        failFirstRatio: FAIL_FIRST_RATIO,
        poisoned: poisonedOneIn(POISON_ONE_IN),
      });
      endpoint = push;
      const live = await startRouterProcess({
        dataDir: dir,
        fsync: "always",
        args: ["--allow-private-endpoints"],
        // A start has taken over 20 s here under load (restartMs in the table shows each).
        readyTimeoutMs: 90_000,
      });
      router = live;
      const name = `soak-${randomBytes(4).toString("hex")}`;
      const subs = { pull: `${name}-pull`, push: `${name}-push` };
      await setUp(live.url, name, subs, push.url);

      const producers = Array.from(
        { length: PRODUCERS },
        (_, p) => new Producer(`${name}-p${p}`, live.url, name, keysOf(p)),
      );
      const consumer = new Consumer(live.url, subs.pull, {
        nackRatio: NACK_RATIO,
        nackDelayMs: 100,
      });
      const redriver = new Redriver(live.url, subs.push, `${name}.${subs.push}.dlq`, push);
      const restarts: RestartStats = { lockRefusals: 0 };
      const loops = new LoadLoops();
      const started = Date.now();
      // The rate counts from each process's start, so no process catches up for a slow
      // predecessor: each does about the same work, and their samples compare.
      let processStarted = started;
      let publishedBefore = 0;
      const published = (): number => producers.reduce((n, p) => n + p.stats.events, 0);
      const hold = (): boolean =>
        published() - Math.min(consumer.delivered.size, push.delivered.size) > MAX_BACKLOG ||
        published() - publishedBefore >= (RATE * (Date.now() - processStarted)) / 1000;
      loops.start("publish", () =>
        Promise.all(producers.map((p) => p.run(() => loops.stopPublishing, hold))),
      );
      loops.start("consume", () => consumer.run(() => loops.stopConsuming));
      loops.start("redrive", async () => {
        let next = Date.now() + REDRIVE_EVERY_MS;
        while (!loops.stopPublishing) {
          if (Date.now() < next) await pause(100);
          else {
            await redriver.round();
            next = Date.now() + REDRIVE_EVERY_MS;
          }
        }
      });
      const diagnose = async (): Promise<string> =>
        [
          `push endpoint: ${JSON.stringify(push.stats)}, ${push.delivered.size} distinct delivered`,
          `redriver: ${JSON.stringify(redriver.stats)}`,
          `push subscription: ${JSON.stringify(await subscriptionStats(live.url, subs.push))}`,
          await backlogReport(live, subs.pull, producers, consumer),
        ].join("\n");

      const samples: Sample[] = [];
      const report = reportPath();
      const sampleNow = async (cycle: number): Promise<Sample> => {
        const pid = live.pid;
        if (pid === undefined) throw new Error("the router is not running");
        const usage = await procUsage(pid);
        return {
          cycle,
          atSec: (Date.now() - started) / 1000,
          pid,
          restartMs,
          ...usage,
          dataBytes: await directoryBytes(dir),
          published: published(),
          pulled: consumer.delivered.size,
          pushed: push.delivered.size,
          deadLettered: redriver.stats.deadLetterings,
          redriven: redriver.stats.matched,
        };
      };

      let restartMs = 0;
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        // Each process lives the same time, so each sample is of a process of the same age.
        while (Date.now() < processStarted + KILL_EVERY_MS) {
          loops.throwIfFailed();
          await pause(100);
        }
        await progressed(samples.at(-1), published, consumer, push, loops, diagnose);
        const sample = await sampleNow(cycle);
        samples.push(sample);
        console.log(`soak cycle ${cycle}: ${JSON.stringify(sample)}`);
        await writeReport(report, { settings: settings(), samples, restarts });
        const killed = Date.now();
        await restartCountingLockRefusals(live, restarts);
        processStarted = Date.now();
        publishedBefore = published();
        restartMs = processStarted - killed;
      }
      loops.stopPublishing = true;
      await loops.finished("publish");
      await loops.finished("redrive");
      const publishSeconds = (Date.now() - started) / 1000;

      const confirmed = producers.flatMap((p) => p.confirmed);
      const drainStarted = Date.now();
      await drained(
        live.url,
        subs.pull,
        () => consumer.delivered.size,
        confirmed.length,
        loops,
        diagnose,
        DRAIN_MS,
      );
      const pushDrained = eventually(
        async () => {
          loops.throwIfFailed();
          await redriver.round();
          expect(push.delivered.size, "distinct events pushed").toBe(confirmed.length);
          expect(await redriver.waiting(), "dead letters not redriven").toBe(0);
        },
        { timeoutMs: DRAIN_MS, intervalMs: 1_000 },
      );
      await withDiagnosis(pushDrained, diagnose);
      await drained(
        live.url,
        subs.push,
        () => push.delivered.size,
        confirmed.length,
        loops,
        diagnose,
      );
      const drainSeconds = (Date.now() - drainStarted) / 1000;
      loops.stopConsuming = true;
      await loops.finished("consume");
      const log = await readWholeLog(live.url, name);

      const deadLettered = redriver.deadLettered;
      const poisoned = log.filter((e) => poisonedOneIn(POISON_ONE_IN)(e.id));
      const notDeadLettered = <T extends { readonly id: string }>(items: readonly T[]): T[] =>
        items.filter((item) => !deadLettered.has(item.id));
      const totals = {
        publishSeconds,
        drainSeconds,
        published: published(),
        logged: log.length,
        starts: live.starts,
        lockRefusals: restarts.lockRefusals,
        producers: sumStats(producers.map((p) => p.stats)),
        consumer: consumer.stats,
        push: { ...push.stats, distinct: push.delivered.size, deliveries: push.observed.length },
        redriver: redriver.stats,
        poisoned: poisoned.length,
        deadLetteredEvents: deadLettered.size,
      };
      const flat = checkFlat(samples);
      await writeReport(report, { settings: settings(), samples, restarts, totals, flat });
      console.log(
        [
          `soak: ${CYCLES} kills in ${publishSeconds.toFixed(0)} s at ≤ ${RATE} events/s, drained in ${drainSeconds.toFixed(1)} s; report ${report}`,
          usageTable(samples),
          `totals: ${JSON.stringify(totals)}`,
          `flat (cycle ${SOAK_LIMITS.baselineCycle} vs ${samples.at(-1)?.cycle}): ${flat.length === 0 ? "yes" : flat.join("; ")}`,
        ].join("\n"),
      );

      expect(checkLog(log, confirmed)).toEqual([]);
      expect(checkDeliveries(log, consumer.observed), "pull").toEqual([]);
      expect(consumer.redeliveredAfterAck).toEqual([]);
      // Redriven events arrive after later events of their key, by design: order is checked
      // over the events that never dead-lettered, delivery over all of them.
      expect(checkDeliveries(notDeadLettered(log), notDeadLettered(push.observed)), "push").toEqual(
        [],
      );
      expect(poisoned.length, "poisoned events published").toBeGreaterThan(0);
      expect(poisoned.filter((e) => !deadLettered.has(e.id))).toEqual([]);
      expect([...deadLettered].filter((id) => !push.delivered.has(id))).toEqual([]);
      expect(redriver.stats.matched).toBeGreaterThanOrEqual(deadLettered.size);
      expect(consumer.stats.nacks, "nacks sent").toBeGreaterThan(0);
      expect(push.stats.failedFirst, "503s answered").toBeGreaterThan(0);
      expect(live.starts).toBe(CYCLES + 1 + restarts.lockRefusals);
      expect(flat).toEqual([]);
    },
    // Each cycle also spends a restart and maybe a wait for progress: a quarter more.
    MINUTES * 75_000 + 2 * DRAIN_MS + 120_000,
  );
});

function keysOf(producer: number): string[] {
  return Array.from({ length: KEYS_PER_PRODUCER }, (_, k) => `key-${producer}-${k}`);
}

async function setUp(
  url: string,
  topic: string,
  subs: { readonly pull: string; readonly push: string },
  pushUrl: string,
): Promise<void> {
  // Every publish retry comes within a minute or so of its first attempt (a batch goes on
  // only once answered), so two minutes recognise each. Not the whole soak: the router holds
  // the window's ids in memory, and a window as long as the run would grow RSS by design.
  await callUntilAnswered(`${url}/v1/topics/${topic}`, "PUT", { dedupeWindowMs: 120_000 }, [201]);
  // Short leases bring back what a crash left in flight quickly.
  const keyOrdered = { topic, start: "earliest", ordering: "key", ackTimeoutMs: 1_000 };
  await callUntilAnswered(
    `${url}/v1/subscriptions/${subs.pull}`,
    "PUT",
    // Attempts never run out: nothing of the pull subscription dead-letters.
    {
      ...keyOrdered,
      maxAttempts: 1_000,
      backoff: { initialMs: 50, maxMs: 500, multiplier: 2 },
    },
    [201],
  );
  await callUntilAnswered(
    `${url}/v1/subscriptions/${subs.push}`,
    "PUT",
    // Few attempts and short backoff, so poisoned events dead-letter within a second or so;
    // a short request timeout keeps the lease short, so a key whose request a kill cut off
    // moves on soon after the restart (the lease is at least the timeout).
    {
      ...keyOrdered,
      maxAttempts: PUSH_MAX_ATTEMPTS,
      backoff: { initialMs: 50, maxMs: 400, multiplier: 2 },
      push: { url: pushUrl, timeoutMs: 2_000 },
    },
    [201],
  );
}

/** Waits until events were published and delivered to both subscriptions since `last`. */
async function progressed(
  last: Sample | undefined,
  published: () => number,
  consumer: Consumer,
  push: PushEndpoint,
  loops: LoadLoops,
  diagnose: () => Promise<string>,
): Promise<void> {
  const moved = eventually(
    () => {
      loops.throwIfFailed();
      expect(published(), "published").toBeGreaterThan(last?.published ?? 0);
      expect(consumer.delivered.size, "pulled").toBeGreaterThan(last?.pulled ?? 0);
      expect(push.delivered.size, "pushed").toBeGreaterThan(last?.pushed ?? 0);
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  await withDiagnosis(moved, diagnose);
}

async function subscriptionStats(url: string, name: string): Promise<unknown> {
  const sub = await callUntilAnswered(`${url}/v1/subscriptions/${name}`, "GET", undefined, [200]);
  const { stats, state, health } = sub as { stats?: unknown; state?: unknown; health?: unknown };
  return { stats, state, health };
}

function sumStats<T extends object>(all: readonly T[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const stats of all)
    for (const [k, v] of Object.entries(stats))
      if (typeof v === "number") sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

function settings(): Record<string, number> {
  return {
    minutes: MINUTES,
    killEveryMs: KILL_EVERY_MS,
    cycles: CYCLES,
    ratePerSecond: RATE,
    producers: PRODUCERS,
    keys: PRODUCERS * KEYS_PER_PRODUCER,
    nackRatio: NACK_RATIO,
    failFirstRatio: FAIL_FIRST_RATIO,
    poisonOneIn: POISON_ONE_IN,
    pushMaxAttempts: PUSH_MAX_ATTEMPTS,
    redriveEveryMs: REDRIVE_EVERY_MS,
  };
}

function reportPath(): string {
  return (
    process.env.SWITCHYARD_SOAK_REPORT ??
    join(tmpdir(), `switchyard-soak-${new Date().toISOString().replace(/[:.]/g, "-")}.json`)
  );
}

async function writeReport(path: string, report: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}
