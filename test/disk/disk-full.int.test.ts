/**
 * Disk full: a child router (the real CLI, fsync always) stores on a small tmpfs. A ballast
 * file leaves it a little room, then batches are published until the store refuses them.
 * Refusals must be 507 `storage_full` with `Retry-After` (never 500, never a crash), other
 * writers (subscribe, pull, ack) must answer 2xx or 507, and once the ballast is deleted the
 * same router stores again by itself: the refused batch, republished with the same ids, is
 * stored as new (no dedupe entry survived its failure) right after the last acknowledged
 * offset (no offset was skipped). At the end every 201 is in the log, in order, and the
 * stopped store passes `PRAGMA integrity_check`. Needs root for the tmpfs (see tmpfs.ts).
 *
 * Short by default; `SWITCHYARD_DISK_LONG=1` (`npm run test:disk`) fills and frees the disk
 * several times.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";
import { mountTmpfs, type Tmpfs } from "../support/tmpfs.js";
import {
  type Answer,
  call,
  events,
  integrityCheck,
  type Published,
  publish,
  publishedOf,
  readLog,
} from "./http.js";

const LONG = process.env.SWITCHYARD_DISK_LONG === "1";
const ROUNDS = LONG ? 5 : 1;
const TMPFS_MIB = 32;
/** Room left beside the ballast: a dozen batches or so. */
const ROOM_BYTES = 1_500_000;
const BATCH = 50;
const EVENT_BYTES = 2_000;
/** Bounds the fill loop: the disk must be full long before this many batches. */
const MAX_BATCHES = 400;
const TOPIC = "disk-full";
const SUB = "disk-full-sub";

function expectFullAnswer(answer: Answer): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(507);
  expect(answer.body.code).toBe("storage_full");
  expect(String(answer.body.detail)).toMatch(/disk is full/);
  expect(Number(answer.retryAfter)).toBeGreaterThan(0);
}

/** Publishes batches until one is refused; returns what was acknowledged and the refusal. */
async function fillUp(
  url: string,
  round: number,
): Promise<{ acked: Published[]; refused: Answer; batch: ReturnType<typeof events> }> {
  const acked: Published[] = [];
  for (let b = 0; b < MAX_BATCHES; b++) {
    const batch = events(`r${round}-b${b}`, BATCH, EVENT_BYTES);
    const answer = await publish(url, TOPIC, batch);
    if (answer.status === 201) {
      acked.push(...publishedOf(answer));
      continue;
    }
    expectFullAnswer(answer);
    return { acked, refused: answer, batch };
  }
  throw new Error(`the disk never filled after ${MAX_BATCHES} batches`);
}

/** Other writers on a full store answer 2xx or 507 `storage_full`, never 500 or 503. */
async function otherWriters(url: string): Promise<void> {
  const pulled = await call(`${url}/v1/subscriptions/${SUB}/pull`, "POST", { max: 10, waitMs: 0 });
  expect([200, 507], JSON.stringify(pulled.body)).toContain(pulled.status);
  if (pulled.status === 507) expectFullAnswer(pulled);
  const deliveries = (pulled.body.deliveries ?? []) as { ackId: string }[];
  if (deliveries.length > 0) {
    const acked = await call(`${url}/v1/subscriptions/${SUB}/ack`, "POST", {
      ackIds: deliveries.map((d) => d.ackId),
    });
    expect([200, 507], JSON.stringify(acked.body)).toContain(acked.status);
  }
  const created = await call(`${url}/v1/subscriptions/${SUB}-late`, "PUT", { topic: TOPIC });
  expect([200, 201, 507], JSON.stringify(created.body)).toContain(created.status);
  console.log(
    `disk full: pull ${pulled.status} (${deliveries.length} deliveries), create subscription ${created.status}`,
  );
  // Full is not unready: reads and the API are served, and frees (deletes) still work.
  expect((await call(`${url}/readyz`, "GET")).status).toBe(200);
}

describe("disk full (SQLite on a small tmpfs)", () => {
  let disk: Tmpfs | undefined;
  let router: RouterProcess | undefined;

  afterAll(async () => {
    await router?.kill();
    disk?.unmount();
  });

  it(
    `answers 507 storage_full when full, loses no 201 and recovers by itself (${ROUNDS} round${ROUNDS > 1 ? "s" : ""})`,
    async () => {
      disk = mountTmpfs(TMPFS_MIB);
      const dataDir = join(disk.dir, "data");
      const live = await startRouterProcess({ dataDir, fsync: "always" });
      router = live;
      const pid = live.pid;
      expect((await call(`${live.url}/v1/topics/${TOPIC}`, "PUT", {})).status).toBe(201);
      expect(
        (await call(`${live.url}/v1/subscriptions/${SUB}`, "PUT", { topic: TOPIC })).status,
      ).toBe(201);

      const acked: Published[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const ballast = disk.fill(`ballast-${round}`, ROOM_BYTES);
        const filled = await fillUp(live.url, round);
        acked.push(...filled.acked);
        expectFullAnswer(await publish(live.url, TOPIC, filled.batch)); // still full: fails fast
        await otherWriters(live.url);

        rmSync(ballast);
        const started = Date.now();
        const again = await eventually(
          async () => {
            const answer = await publish(live.url, TOPIC, filled.batch);
            expect(answer.status, JSON.stringify(answer.body)).toBe(201);
            return publishedOf(answer);
          },
          { timeoutMs: 20_000, intervalMs: 100 },
        );
        const recoveredMs = Date.now() - started;
        const last = acked.at(-1)?.offset ?? 0;
        expect(again.map((p) => p.duplicate)).toEqual(again.map(() => false));
        expect(again.map((p) => p.offset)).toEqual(again.map((_, i) => last + 1 + i));
        acked.push(...again);
        console.log(
          `disk full round ${round}: ${filled.acked.length / BATCH} batches (${filled.acked.length} events) acknowledged before the first 507; recovered ${recoveredMs} ms after the ballast was deleted`,
        );
      }
      expect(live.pid).toBe(pid); // recovered without a restart

      const log = await readLog(live.url, TOPIC);
      expect(log.map((e) => e.id)).toEqual(acked.map((e) => e.id));
      expect(log.map((e) => e.offset)).toEqual(acked.map((_, i) => i + 1));

      await live.stop();
      const result = integrityCheck(join(dataDir, "switchyard.db"));
      console.log(
        `disk full: integrity_check ${result}; ${log.length} events in the log, all ${acked.length} acknowledged present`,
      );
      expect(result).toBe("ok");
    },
    LONG ? 240_000 : 60_000,
  );
});
