/**
 * The fault test: a three-node JetStream cluster (R3 streams and buckets) and two Switchyard
 * nodes on loopback under continuous publishing and consuming. Mid-run one NATS node and one
 * Switchyard node are killed with SIGKILL, then restarted. Every event answered 201 must be
 * delivered at least once to every subscription; none may be lost.
 *
 * Short by default (part of `npm test`); `SWITCHYARD_CLUSTER_LONG=1` (npm run test:cluster)
 * runs a minute of load with the kills in the middle.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { type NatsServers, natsServerAvailable, startNatsCluster } from "../support/nats-server.js";
import { api, uniqueName } from "../support/router.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";
import { Consumer, Publisher } from "./load.js";

const LONG = process.env.SWITCHYARD_CLUSTER_LONG === "1";
const BEFORE_KILL_MS = LONG ? 20_000 : 1_500;
const DOWN_MS = LONG ? 10_000 : 1_500;
const AFTER_RESTART_MS = LONG ? 30_000 : 2_000;
/** The short run publishes gently (about 400 events/s per publisher), the long one flat out. */
const PUBLISH_PAUSE_MS = LONG ? 0 : 50;
const DRAIN_MS = LONG ? 120_000 : 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(natsServerAvailable())("cluster faults: R3 JetStream, two Switchyard nodes", () => {
  let cluster: NatsServers | undefined;
  let dir: string | undefined;
  const routers: RouterProcess[] = [];

  afterAll(async () => {
    await Promise.all(routers.map((r) => r.stop()));
    await cluster?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    "delivers every event answered 201 to every subscription through SIGKILLs of a NATS and a Switchyard node",
    async () => {
      cluster = await startNatsCluster(3);
      dir = mkdtempSync(join(tmpdir(), "sy-fault-"));
      const args = ["--engine", "nats", "--nats-url", cluster.url, "--nats-replicas", "3"];
      const start = (name: string) =>
        startRouterProcess({
          dataDir: join(dir ?? "", name),
          args: [...args, "--nats-prefix", "FAULT"],
          env: { SWITCHYARD_LOG_LEVEL: "warn" },
          readyTimeoutMs: 60_000,
        });
      routers.push(await start("one"), await start("two"));
      const [one, two] = routers as [RouterProcess, RouterProcess];
      const nodes = [one.url, two.url];

      const topic = uniqueName("fault");
      const http = api(one.url);
      expect((await http.put(`/v1/topics/${topic}`, {})).status).toBe(201);
      const subs = [uniqueName("s"), uniqueName("s")];
      for (const [i, sub] of subs.entries()) {
        const res = await http.put(`/v1/subscriptions/${sub}`, {
          topic,
          start: "earliest",
          ackTimeoutMs: 2_000,
          ordering: i === 0 ? "key" : "none",
        });
        expect(res.status, res.text).toBe(201);
      }

      const publishers = ["p1", "p2"].map((label) => new Publisher(nodes, topic, label));
      const consumers = subs.map((sub) => new Consumer(nodes, sub));
      for (const p of publishers) p.start(20, PUBLISH_PAUSE_MS);
      for (const c of consumers) c.start();

      const t0 = Date.now();
      const phase = (name: string) => console.log(`${name} at ${Date.now() - t0} ms`);
      await sleep(BEFORE_KILL_MS);
      const natsVictim = cluster.servers[1];
      await natsVictim?.kill();
      await one.kill();
      phase("killed");
      await sleep(DOWN_MS);
      await one.start();
      phase("switchyard restarted");
      await natsVictim?.start();
      phase("nats restarted");
      await sleep(AFTER_RESTART_MS);
      for (const p of publishers) await p.stop();
      phase("publishers stopped");

      const confirmed = new Set(publishers.flatMap((p) => [...p.confirmed]));
      expect(confirmed.size).toBeGreaterThan(0);
      try {
        await eventually(
          () => {
            for (const c of consumers) {
              const missing = [...confirmed].filter((id) => !c.delivered.has(id));
              expect(
                missing.slice(0, 10),
                `${missing.length} confirmed events not delivered`,
              ).toEqual([]);
            }
          },
          { timeoutMs: DRAIN_MS, intervalMs: 250 },
        );
      } finally {
        phase("drained");
        for (const c of consumers) await c.stop();
      }
      const lost = publishers.reduce((n, p) => n + p.stats.lostAnswers, 0);
      console.log(
        `cluster fault test: ${confirmed.size} events confirmed, all delivered to ${subs.length} subscriptions; ` +
          `${lost} publish answers lost and retried; consumer requests lost: ${consumers.map((c) => c.stats.lostAnswers).join(", ")}`,
      );
    },
    BEFORE_KILL_MS + DOWN_MS + AFTER_RESTART_MS + DRAIN_MS + 120_000,
  );
});
