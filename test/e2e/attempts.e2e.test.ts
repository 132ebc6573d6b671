/**
 * Attempts over HTTP, on both engines: an attempt is a delivery whose pull response the
 * router finished writing to an open connection. A client that pulls and never settles sees
 * attempts 1, 2, 3 in order and then the event in the dead-letter topic; a pull whose client
 * went away burns no attempt. The scenario runs 3 times here, 20 times with
 * `SWITCHYARD_ATTEMPTS_LONG=1` (`npm run test:attempts-long`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import {
  type Api,
  api,
  event,
  startTestRouter,
  type TestRouter,
  uniqueName,
} from "../support/router.js";
import { TEST_SECRET_KEY } from "../support/router-process.js";

const RUNS = process.env.SWITCHYARD_ATTEMPTS_LONG === "1" ? 20 : 3;
const MAX_ATTEMPTS = 3;

interface DeliveryBody {
  ackId: string;
  attempt: number;
  event: { id: string; [k: string]: unknown };
}

async function setup(http: Api): Promise<{ topic: string; name: string; id: string }> {
  const topic = uniqueName("att");
  const name = uniqueName("s");
  expect((await http.put(`/v1/topics/${topic}`, {})).status).toBe(201);
  const sent = event();
  expect((await http.publish(topic, sent)).status).toBe(201);
  const config = { topic, start: "earliest", ackTimeoutMs: 1_000, maxAttempts: MAX_ATTEMPTS };
  expect((await http.put(`/v1/subscriptions/${name}`, config)).status).toBe(201);
  return { topic, name, id: sent.id as string };
}

async function pull(http: Api, name: string, waitMs: number): Promise<DeliveryBody[]> {
  const res = await http.post(`/v1/subscriptions/${name}/pull`, { waitMs });
  expect(res.status).toBe(200);
  return res.body.deliveries;
}

async function deadLetters(http: Api, topic: string, name: string) {
  const res = await http.get(`/v1/topics/${topic}.${name}.dlq/events?from=1&limit=10`);
  expect(res.status).toBe(200);
  return res.body.events as Record<string, unknown>[];
}

/** Pulls with `waitMs: 1500` and never settles, until the event is dead-lettered. */
async function neverSettle(http: Api): Promise<number[]> {
  const { topic, name, id } = await setup(http);
  const seen: number[] = [];
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const d of await pull(http, name, 1_500)) {
      expect(d.event.id).toBe(id);
      seen.push(d.attempt);
    }
    const dead = await deadLetters(http, topic, name);
    if (dead.length > 0) {
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ id, deadletterattempts: MAX_ATTEMPTS });
      break;
    }
    if (Date.now() > deadline) throw new Error(`not dead-lettered in time; attempts ${seen}`);
  }
  // Nothing more comes once it is dead-lettered.
  expect(await pull(http, name, 1_500)).toEqual([]);
  return seen;
}

function attemptTests(http: () => Api): void {
  it(
    `a client that never settles sees attempts 1, 2, 3, then a dead letter (${RUNS} runs)`,
    async () => {
      for (let run = 0; run < RUNS; run++) {
        const seen = await neverSettle(http());
        expect(seen, `run ${run + 1}`).toEqual([1, 2, 3]);
      }
    },
    40_000 * RUNS,
  );

  it("a pull whose client disconnects mid-wait burns no attempt", async () => {
    const topic = uniqueName("att");
    const name = uniqueName("s");
    await http().put(`/v1/topics/${topic}`, {});
    const config = { topic, ackTimeoutMs: 1_000, maxAttempts: MAX_ATTEMPTS };
    expect((await http().put(`/v1/subscriptions/${name}`, config)).status).toBe(201);
    const controller = new AbortController();
    const abandoned = http().post(
      `/v1/subscriptions/${name}/pull`,
      { waitMs: 20_000 },
      { signal: controller.signal },
    );
    const waiting = async (n: number) =>
      expect((await http().get("/metrics")).text).toContain(`switchyard_pulls_waiting ${n}\n`);
    await eventually(() => waiting(1));
    controller.abort();
    await expect(abandoned).rejects.toThrow();
    const sent = event();
    await http().publish(topic, sent);
    const [d] = await eventually(async () => {
      const got = await pull(http(), name, 5_000);
      expect(got).toHaveLength(1);
      return got;
    });
    expect(d?.event.id).toBe(sent.id);
    expect(d?.attempt).toBe(1);
  }, 30_000);
}

describe("attempts over HTTP: sqlite", () => {
  let router: TestRouter;
  beforeAll(async () => {
    router = await startTestRouter();
  });
  afterAll(async () => {
    await router?.dispose();
  });
  attemptTests(() => api(router.url));
});

describe.runIf(natsServerAvailable())("attempts over HTTP: nats", () => {
  let nats: NatsServers;
  let router: TestRouter;
  beforeAll(async () => {
    nats = await startNatsServer();
    router = await startTestRouter({
      engine: "nats",
      nats: { url: nats.url, prefix: uniqueName("AT").replace(/[^A-Za-z0-9]/g, "") },
      secretKeys: TEST_SECRET_KEY,
    });
  }, 60_000);
  afterAll(async () => {
    await router?.dispose();
    await nats?.close();
  });
  attemptTests(() => api(router.url));
});
