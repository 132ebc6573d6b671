/**
 * The bench's RabbitMQ and Redis Streams subjects against the real brokers: an event
 * published is delivered to every subscription with its fields, a later subscription on a
 * RabbitMQ topic that already has events is refused, and closing leaves nothing behind (the
 * redis-server process and its directory, the RabbitMQ vhost).
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../bench/load.ts";
import { rabbitmqSubject, rabbitmqUnavailable } from "../../bench/subjects/rabbitmq.ts";
import { redisSubject, redisUnavailable } from "../../bench/subjects/redis.ts";
import type { EventFields, SubjectSession } from "../../bench/subjects/subject.ts";

async function roundTrip(session: SubjectSession, topic: string): Promise<EventFields[][]> {
  await session.createTopic(topic);
  await session.createSubscription(topic, `${topic}-a`);
  await session.createSubscription(topic, `${topic}-b`);
  const received: EventFields[][] = [[], []];
  const subscribers = await Promise.all(
    ["a", "b"].map((name, i) =>
      session.subscribe(`${topic}-${name}`, 10, (fields) => void received[i]?.push(fields)),
    ),
  );
  for (let seq = 0; seq < 5; seq++) await session.publish(topic, { seq, t: 1.5 });
  await session.preload(topic, 5);
  await until(() => received.every((r) => r.length >= 10), 10_000);
  for (const subscriber of subscribers) await subscriber.close();
  return received;
}

describe("bench subject: Redis Streams", () => {
  let root = "";
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "redis-subject-test-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.skipIf(redisUnavailable() !== undefined)(
    "delivers every event to every consumer group and stops its own server",
    async () => {
      const subject = redisSubject("always", {
        dataRoot: root,
        profileDir: undefined,
        engine: "redis",
        fsync: "always",
      });
      const session = await subject.open();
      try {
        const received = await roundTrip(session, "t1");
        for (const fields of received) {
          expect(fields.slice(0, 5).map(({ seq, t }) => ({ seq, t }))).toEqual(
            [0, 1, 2, 3, 4].map((seq) => ({ seq, t: 1.5 })),
          );
          expect(fields.slice(5).map((f) => f.seq)).toEqual([0, 1, 2, 3, 4]);
        }
        expect(readdirSync(root)).toHaveLength(1);
        expect(Number.isFinite(session.cpuMs())).toBe(true); // its PID is readable while it runs
      } finally {
        // Also on a failed expectation: never leave a redis-server behind.
        await session.close();
      }
      expect(readdirSync(root)).toHaveLength(0);
      // The server's PID is gone with it.
      expect(Number.isNaN(session.cpuMs())).toBe(true);
    },
    30_000,
  );
});

const rabbitReason = await rabbitmqUnavailable();

describe("bench subject: RabbitMQ", () => {
  it.skipIf(rabbitReason !== undefined)(
    "fans out to a queue per subscription, refuses a late one, deletes its vhost",
    async () => {
      const subject = rabbitmqSubject("quorum");
      const session = await subject.open();
      const vhosts = () =>
        execFileSync("/usr/sbin/rabbitmqctl", ["-q", "list_vhosts"], { encoding: "utf8" });
      const ours = vhosts()
        .split("\n")
        .filter((line) => line.startsWith(`switchyard-bench-quorum-${process.pid}-`));
      expect(ours).toHaveLength(1);
      try {
        const received = await roundTrip(session, "t1");
        for (const fields of received)
          expect(fields.map((f) => f.seq).sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
        await expect(session.createSubscription("t1", "late")).rejects.toThrow(/do not replay/);
      } finally {
        await session.close();
        await subject.dispose?.();
      }
      expect(vhosts()).not.toContain(ours[0]);
    },
    120_000,
  );
});
