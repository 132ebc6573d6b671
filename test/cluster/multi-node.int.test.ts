/**
 * Two `switchyard serve --engine nats` processes on different ports, one JetStream: they
 * share topics and subscriptions, pull work spreads across them, an ackId from one settles
 * on the other, and a delivery leased through a node that is killed comes back through the
 * other after its lease. A redrive job started on one node is answered by the other.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { type HttpSink, startSink } from "../support/http-sink.js";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import { type Api, api, event, uniqueName } from "../support/router.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

interface DeliveryBody {
  readonly ackId: string;
  readonly attempt: number;
  readonly event: { readonly id: string; readonly offset: number };
}

describe.runIf(natsServerAvailable())("two Switchyard nodes on one JetStream", () => {
  let nats: NatsServers;
  let dir: string;
  let one: RouterProcess;
  let two: RouterProcess;
  let a: Api;
  let b: Api;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), "sy-multi-node-"));
    const prefix = `MN${Date.now().toString(36)}`;
    const node = (name: string) =>
      startRouterProcess({
        dataDir: join(dir, name),
        args: [
          ...["--engine", "nats", "--nats-url", nats.url, "--nats-prefix", prefix],
          // The webhook sink of the push test listens on 127.0.0.1.
          "--allow-private-endpoints",
        ],
        env: { SWITCHYARD_LOG_LEVEL: "warn" },
      });
    [one, two] = await Promise.all([node("one"), node("two")]);
    a = api(one.url);
    b = api(two.url);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await nats?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function topicWithSub(sub: Record<string, unknown> = {}) {
    const topic = uniqueName("mn");
    const name = uniqueName("s");
    expect((await a.put(`/v1/topics/${topic}`, {})).status).toBe(201);
    const put = await b.put(`/v1/subscriptions/${name}`, { topic, start: "earliest", ...sub });
    expect(put.status, put.text).toBe(201);
    return { topic, name };
  }

  const pull = async (on: Api, name: string, body: Record<string, unknown> = {}) => {
    const res = await on.post(`/v1/subscriptions/${name}/pull`, { max: 100, ...body });
    expect(res.status, res.text).toBe(200);
    return res.body.deliveries as DeliveryBody[];
  };

  /** A subscription's gauge on one node, read by a text-format parser; undefined if absent. */
  async function gauge(on: Api, family: string, name: string): Promise<number | undefined> {
    const res = await on.get("/metrics");
    expect(res.status).toBe(200);
    const found = parsePrometheusTextFormat(res.text).find((f) => f.name === family);
    expect(found?.type, family).toBe("GAUGE");
    const series = found?.metrics.find((m) => m.labels?.subscription === name);
    return series === undefined ? undefined : Number(series.value);
  }

  it("reports a subscription's gauges from its owner only, so a sum across nodes counts it once", async () => {
    const { topic, name } = await topicWithSub();
    expect((await a.publish(topic, [event(), event(), event(), event(), event()])).status).toBe(
      201,
    );
    // Rejected through the node that does not own it: forwarded, counted on the owner.
    const leased = await pull(b, name, { max: 2 });
    expect(leased).toHaveLength(2);
    const rejected = await a.post(`/v1/subscriptions/${name}/reject`, {
      ackIds: leased.map((d) => d.ackId),
      reason: "x",
    });
    expect(rejected.status).toBe(200);
    for (const [family, want] of [
      ["switchyard_subscription_lag", 3],
      ["switchyard_subscription_dead_letter_depth", 2],
      ["switchyard_subscription_in_flight", 0],
    ] as const) {
      const seen = [await gauge(a, family, name), await gauge(b, family, name)];
      // Exactly one node has the series; the other leaves it out.
      expect(
        seen.filter((v) => v !== undefined),
        family,
      ).toEqual([want]);
    }
  });

  it("shares topics and subscriptions: what one node creates, the other serves", async () => {
    const { topic, name } = await topicWithSub();
    expect((await b.get(`/v1/topics/${topic}`)).status).toBe(200);
    expect((await a.get(`/v1/subscriptions/${name}`)).body.topic).toBe(topic);
    expect((await b.publish(topic, [event(), event()])).status).toBe(201);
    expect((await a.get(`/v1/topics/${topic}`)).body.stats.events).toBe(2);
  });

  it("answers for a redrive job on every node: started on one, read running and done on the other", async () => {
    const { topic, name } = await topicWithSub();
    expect((await a.publish(topic, [event(), event(), event()])).status).toBe(201);
    const leased = await pull(a, name);
    await a.post(`/v1/subscriptions/${name}/reject`, {
      ackIds: leased.map((d) => d.ackId),
      reason: "bug",
    });
    const started = await a.post(`/v1/subscriptions/${name}/redrive`, {
      chunkSize: 1,
      ratePerSecond: 2,
    });
    expect(started.status, started.text).toBe(202);
    const path = `/v1/subscriptions/${name}/redrives/${started.body.redrive}`;
    const early = await b.get(path);
    expect(early.status, early.text).toBe(200);
    expect(early.body).toMatchObject({ redrive: started.body.redrive, matched: 3 });
    await eventually(
      async () => expect((await b.get(path)).body).toMatchObject({ state: "done", moved: 3 }),
      { timeoutMs: 10_000 },
    );
    expect((await b.get(`/v1/subscriptions/${name}/redrives/nope`)).status).toBe(404);
  });

  it("spreads pulls over both nodes, each event handed out once, acked through either", async () => {
    const { topic, name } = await topicWithSub();
    const events = Array.from({ length: 40 }, () => event());
    expect((await a.publish(topic, events)).status).toBe(201);
    const got: DeliveryBody[] = [];
    for (let round = 0; got.length < 40 && round < 20; round++) {
      got.push(...(await pull(round % 2 === 0 ? a : b, name, { max: 7 })));
    }
    expect(got.map((d) => d.event.id).sort()).toEqual(events.map((e) => e.id as string).sort());
    const halves = [got.slice(0, 20), got.slice(20)];
    for (const [i, half] of halves.entries()) {
      const res = await (i === 0 ? b : a).post(`/v1/subscriptions/${name}/ack`, {
        ackIds: half.map((d) => d.ackId),
      });
      expect(res.body.results.every((r: { status: string }) => r.status === "ok")).toBe(true);
    }
    expect(await pull(b, name)).toEqual([]);
    expect((await a.get(`/v1/subscriptions/${name}`)).body.stats.acked).toBe(40);
  });

  it("pushes through both nodes: every event reaches the endpoint, each node delivers some", async () => {
    const sink: HttpSink = await startSink();
    try {
      const { topic, name } = await topicWithSub({ push: { url: sink.url } });
      const published = new Set<string>();
      const pushedBy = async (node: Api) => {
        const text = (await node.get("/metrics")).text;
        const line = text
          .split("\n")
          .find((l) => l.startsWith(`switchyard_pushed_events_total{subscription="${name}"}`));
        return Number(line?.split(" ").at(-1) ?? 0);
      };
      // Each node's dispatcher finds the subscription on its own (the other node created it):
      // keep publishing until both have delivered.
      await eventually(
        async () => {
          const events = Array.from({ length: 20 }, () => event());
          expect((await a.publish(topic, events)).status).toBe(201);
          for (const e of events) published.add(e.id as string);
          expect(await pushedBy(a)).toBeGreaterThan(0);
          expect(await pushedBy(b)).toBeGreaterThan(0);
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
      await eventually(
        () => {
          const seen = new Set(sink.requests.map((r) => r.headers["ce-id"] as string));
          expect([...published].filter((id) => !seen.has(id))).toEqual([]);
        },
        { timeoutMs: 10_000 },
      );
    } finally {
      await sink.close();
    }
  });

  it("answers 207 with a result per event when NATS stores only part of a batch", async () => {
    const topic = uniqueName("partial");
    expect((await a.put(`/v1/topics/${topic}`, { maxEventBytes: 12 * 1024 * 1024 })).status).toBe(
      201,
    );
    // Valid for the topic, but larger than the test's nats-server carries (max_payload 8 MB).
    const huge = event({ data: { pad: "x".repeat(9 * 1024 * 1024) } });
    const [first, last] = [event(), event()];
    const res = await b.publish(topic, [first, huge, last]);
    expect(res.status, res.text.slice(0, 300)).toBe(207);
    expect(res.body.events).toMatchObject([
      { id: first.id, offset: 1, duplicate: false },
      { id: huge.id, error: { code: "event_too_large" } },
      { id: last.id, offset: 2, duplicate: false },
    ]);
    expect((await a.get(`/v1/topics/${topic}`)).body.stats.events).toBe(2);
  });

  it("redelivers through the other node what a killed node had leased, after its lease", async () => {
    const { topic, name } = await topicWithSub({ ackTimeoutMs: 1_000 });
    expect((await a.publish(topic, [event(), event()])).status).toBe(201);
    // The first pull makes `one` the subscription's owner; it then dies holding both leases.
    const leased = await pull(a, name);
    expect(leased).toHaveLength(2);
    await one.kill();
    try {
      const again: DeliveryBody[] = [];
      await eventually(
        async () => {
          again.push(...(await pull(b, name, { waitMs: 500 })));
          expect(again).toHaveLength(2);
        },
        { timeoutMs: 15_000 },
      );
      expect(again.map((d) => d.attempt)).toEqual([2, 2]);
      const res = await b.post(`/v1/subscriptions/${name}/ack`, {
        ackIds: again.map((d) => d.ackId),
      });
      expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(["ok", "ok"]);
    } finally {
      await one.start();
    }
  });
});
