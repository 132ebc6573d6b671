/**
 * Attempts across an owner failover: two `switchyard serve --engine nats` processes on one
 * nats-server. The node that owns a subscription is SIGKILLed while a delivery is leased; the
 * other node takes over. The next delivery's attempt is at most one more than the last one
 * a client saw, none is above `maxAttempts`, and the event ends in the dead-letter topic.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import { type Api, api, event, uniqueName } from "../support/router.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

const MAX_ATTEMPTS = 3;

describe.runIf(natsServerAvailable())("attempts across an owner failover (NATS)", () => {
  let nats: NatsServers;
  let dir: string;
  let one: RouterProcess;
  let two: RouterProcess;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), "sy-attempts-failover-"));
    const prefix = `AF${Date.now().toString(36)}`;
    const node = (name: string) =>
      startRouterProcess({
        dataDir: join(dir, name),
        args: ["--engine", "nats", "--nats-url", nats.url, "--nats-prefix", prefix],
        env: { SWITCHYARD_LOG_LEVEL: "warn" },
        readyTimeoutMs: 60_000,
      });
    [one, two] = await Promise.all([node("one"), node("two")]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await nats?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function pull(http: Api, name: string): Promise<{ attempt: number; id: string }[]> {
    const res = await http.post(`/v1/subscriptions/${name}/pull`, { waitMs: 1_500 });
    expect(res.status).toBe(200);
    return res.body.deliveries.map((d: { attempt: number; event: { id: string } }) => ({
      attempt: d.attempt,
      id: d.event.id,
    }));
  }

  it("runs the count ahead by at most one and never past maxAttempts", async () => {
    const a = api(one.url);
    const b = api(two.url);
    const topic = uniqueName("af");
    const name = uniqueName("s");
    expect((await a.put(`/v1/topics/${topic}`, {})).status).toBe(201);
    const sent = event();
    expect((await a.publish(topic, sent)).status).toBe(201);
    const config = { topic, start: "earliest", ackTimeoutMs: 1_000, maxAttempts: MAX_ATTEMPTS };
    expect((await a.put(`/v1/subscriptions/${name}`, config)).status).toBe(201);

    // Node one leases first, so it owns the subscription; it dies holding the lease.
    const first = await pull(a, name);
    expect(first).toEqual([{ attempt: 1, id: sent.id }]);
    await one.kill();

    const seen = [1];
    const deadline = Date.now() + 60_000;
    for (;;) {
      for (const d of await pull(b, name)) {
        expect(d.id).toBe(sent.id);
        const previous = seen.at(-1) ?? 0;
        expect(d.attempt, `after ${seen}`).toBeGreaterThan(previous);
        expect(d.attempt, `after ${seen}`).toBeLessThanOrEqual(previous + 1);
        expect(d.attempt).toBeLessThanOrEqual(MAX_ATTEMPTS);
        seen.push(d.attempt);
      }
      const dead = await b.get(`/v1/topics/${topic}.${name}.dlq/events?from=1&limit=10`);
      expect(dead.status).toBe(200);
      if (dead.body.events.length > 0) {
        expect(dead.body.events).toHaveLength(1);
        expect(dead.body.events[0]).toMatchObject({ id: sent.id });
        expect(dead.body.events[0].deadletterattempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
        break;
      }
      if (Date.now() > deadline) throw new Error(`not dead-lettered in time; attempts ${seen}`);
    }
    expect(seen.at(-1)).toBe(MAX_ATTEMPTS);
    expect(await pull(b, name)).toEqual([]);
  }, 120_000);
});
