/**
 * Scheduled events over HTTP against the real CLI (API.md "Scheduled events"): two events
 * scheduled 4 s ahead, listed, one cancelled, the router killed (SIGKILL) and started again
 * in between; the other is appended on time and the cancelled one never. On NATS, with two
 * routers on one JetStream, the loss of a node (SIGKILL) leaves the other to fire, once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

const dir = mkdtempSync(join(tmpdir(), "switchyard-scheduled-"));
const routers: RouterProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const router of routers) await router.stop().catch(() => undefined);
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function call(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: JSON.stringify(body),
          headers: {
            "content-type": path.endsWith("/events")
              ? "application/cloudevents-batch+json"
              : "application/json",
          },
        }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as unknown };
}

const event = (id: string, deliverat: string) => ({
  specversion: "1.0",
  id,
  source: "/e2e",
  type: "reminder.due",
  deliverat,
  data: { id },
});

interface Stored {
  readonly id: string;
  readonly offset: number;
  readonly appendedat: string;
  readonly deliverat: string;
}

async function log(url: string, topic: string): Promise<Stored[]> {
  return ((await call(url, "GET", `/v1/topics/${topic}/events`)).body as { events: Stored[] })
    .events;
}

async function scheduledIds(url: string, topic: string): Promise<string[]> {
  const page = (await call(url, "GET", `/v1/topics/${topic}/scheduled`)).body as {
    scheduled: { id: string }[];
  };
  return page.scheduled.map((s) => s.id);
}

describe("scheduled events over HTTP", () => {
  it("survives a router restart: the cancelled event never appears, the other on time", async () => {
    const router = await startRouterProcess({ dataDir: join(dir, "sqlite") });
    routers.push(router);
    const topic = "reminders";
    expect((await call(router.url, "PUT", `/v1/topics/${topic}`, {})).status).toBe(201);
    const due = Date.now() + 4_000;
    const published = await call(router.url, "POST", `/v1/topics/${topic}/events`, [
      event("keep", new Date(due).toISOString()),
      event("drop", new Date(due - 500).toISOString()),
    ]);
    expect(published.status).toBe(201);
    expect((published.body as { events: { scheduled?: boolean }[] }).events).toMatchObject([
      { scheduled: true },
      { scheduled: true },
    ]);
    expect(await scheduledIds(router.url, topic)).toEqual(["drop", "keep"]);
    expect((await call(router.url, "DELETE", `/v1/topics/${topic}/scheduled/drop`)).status).toBe(
      204,
    );
    await router.restart();
    expect(await scheduledIds(router.url, topic)).toEqual(["keep"]);
    const [stored] = await eventually(
      async () => {
        const events = await log(router.url, topic);
        expect(events).toHaveLength(1);
        return events;
      },
      { timeoutMs: 15_000, intervalMs: 25 },
    );
    expect(stored).toMatchObject({ id: "keep", offset: 1, deliverat: new Date(due).toISOString() });
    const lateMs = Date.parse(stored?.appendedat ?? "") - due;
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1_000);
    expect(await scheduledIds(router.url, topic)).toEqual([]);
    expect((await log(router.url, topic)).map((e) => e.id)).toEqual(["keep"]);
  }, 60_000);

  it.runIf(natsServerAvailable())(
    "on NATS, a node lost: the other router fires the event, once",
    async () => {
      const nats = await startNatsServer();
      cleanups.push(() => nats.close());
      const args = ["--engine", "nats", "--nats-url", nats.url, "--nats-prefix", "SCHED"];
      const first = await startRouterProcess({ dataDir: join(dir, "n1"), args });
      routers.push(first);
      // The first router holds the scheduler lease; the second starts after it.
      const second = await startRouterProcess({ dataDir: join(dir, "n2"), args });
      routers.push(second);
      const topic = "nats-reminders";
      expect((await call(first.url, "PUT", `/v1/topics/${topic}`, {})).status).toBe(201);
      const due = Date.now() + 2_000;
      await call(first.url, "POST", `/v1/topics/${topic}/events`, [
        event("n1", new Date(due).toISOString()),
      ]);
      expect(await scheduledIds(second.url, topic)).toEqual(["n1"]);
      await first.kill();
      // The lease (10 s) runs out, the second router takes over and fires what is due.
      await eventually(
        async () => expect((await log(second.url, topic)).map((e) => e.id)).toEqual(["n1"]),
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(await scheduledIds(second.url, topic)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect((await log(second.url, topic)).map((e) => e.id)).toEqual(["n1"]);
    },
    90_000,
  );
});
