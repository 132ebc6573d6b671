import { describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { api, event, expectProblem, routerPerFile, uniqueName } from "../support/router.js";

const router = routerPerFile();
const http = api(() => router.url);

interface DeliveryBody {
  ackId: string;
  attempt: number;
  event: { id: string; offset: number; [k: string]: unknown };
}

/** A topic with `n` events and a subscription reading it from the start. */
async function setup(
  n: number,
  sub: Record<string, unknown> = {},
): Promise<{ topic: string; name: string; ids: string[] }> {
  const topic = uniqueName("pull");
  const name = uniqueName("s");
  await http.put(`/v1/topics/${topic}`, {});
  const events = Array.from({ length: n }, () => event());
  if (n > 0) expect((await http.publish(topic, events)).status).toBe(201);
  expect(
    (await http.put(`/v1/subscriptions/${name}`, { topic, start: "earliest", ...sub })).status,
  ).toBe(201);
  return { topic, name, ids: events.map((e) => e.id as string) };
}

async function pull(name: string, body: Record<string, unknown> = {}): Promise<DeliveryBody[]> {
  const res = await http.post(`/v1/subscriptions/${name}/pull`, body);
  expect(res.status).toBe(200);
  return res.body.deliveries;
}

describe("pull and settle", () => {
  it("pulls stored events with ackIds and attempts, and acks them", async () => {
    const { topic, name, ids } = await setup(3);
    const deliveries = await pull(name, { max: 10 });
    expect(deliveries.map((d) => d.event.id)).toEqual(ids);
    expect(deliveries.every((d) => d.attempt === 1 && d.event.topic === topic)).toBe(true);
    const acked = await http.post(`/v1/subscriptions/${name}/ack`, {
      ackIds: deliveries.map((d) => d.ackId),
    });
    expect(acked.status).toBe(200);
    expect(acked.body.results).toEqual(deliveries.map((d) => ({ ackId: d.ackId, status: "ok" })));
    const again = await http.post(`/v1/subscriptions/${name}/ack`, {
      ackIds: [deliveries[0]?.ackId],
    });
    expect(again.body.results[0].status).toBe("unknown");
    const stats = (await http.get(`/v1/subscriptions/${name}`)).body.stats;
    expect(stats).toMatchObject({ lag: 0, inFlight: 0, acked: 3 });
  });

  it("respects max and answers an empty list after waitMs", async () => {
    const { name } = await setup(3);
    expect(await pull(name, { max: 2 })).toHaveLength(2);
    const started = Date.now();
    expect(await pull(name, { max: 5 })).toHaveLength(1);
    expect(await pull(name, { waitMs: 150 })).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("long-polls: a waiting pull answers as soon as an event arrives", async () => {
    const { topic, name } = await setup(0);
    const waiting = pull(name, { waitMs: 20_000 });
    const sent = event();
    await http.publish(topic, sent);
    const deliveries = await waiting;
    expect(deliveries.map((d) => d.event.id)).toEqual([sent.id]);
  });

  it("ends the engine wait when the client disconnects, so no lease is lost to it", async () => {
    const { topic, name } = await setup(0);
    const controller = new AbortController();
    const abandoned = http.post(
      `/v1/subscriptions/${name}/pull`,
      { waitMs: 20_000 },
      { signal: controller.signal },
    );
    const waiting = async (n: number) => {
      const metrics = (await http.get("/metrics")).text;
      expect(metrics).toContain(`switchyard_pulls_waiting ${n}\n`);
    };
    await eventually(() => waiting(1));
    controller.abort();
    await expect(abandoned).rejects.toThrow();
    // Once the server has seen the disconnect, a new event goes to the next pull, not the ghost.
    await eventually(() => waiting(0));
    const sent = event();
    await http.publish(topic, sent);
    expect((await pull(name)).map((d) => d.event.id)).toEqual([sent.id]);
  });

  it("nacks with a delay and without one, extends and redelivers with attempt + 1", async () => {
    const { name, ids } = await setup(1, { backoff: { initialMs: 0, maxMs: 0 } });
    const [first] = await pull(name);
    expect(first?.attempt).toBe(1);
    const extended = await http.post(`/v1/subscriptions/${name}/extend`, {
      ackIds: [first?.ackId],
    });
    expect(extended.body.results[0].status).toBe("ok");
    const nacked = await http.post(`/v1/subscriptions/${name}/nack`, {
      ackIds: [first?.ackId],
      delayMs: 0,
    });
    expect(nacked.body.results).toEqual([{ ackId: first?.ackId, status: "ok" }]);
    const second = await eventually(async () => {
      const [d] = await pull(name);
      expect(d).toBeDefined();
      return d as DeliveryBody;
    });
    expect(second.event.id).toBe(ids[0]);
    expect(second.attempt).toBe(2);
    const stale = await http.post(`/v1/subscriptions/${name}/ack`, { ackIds: [first?.ackId] });
    expect(stale.body.results[0].status).not.toBe("ok");
    const backoff = await http.post(`/v1/subscriptions/${name}/nack`, { ackIds: [second.ackId] });
    expect(backoff.body.results[0].status).toBe("ok");
    const third = await eventually(async () => {
      const [d] = await pull(name);
      expect(d).toBeDefined();
      return d as DeliveryBody;
    });
    expect(third.attempt).toBe(3);
  });

  it("rejects to the dead-letter topic with the reason", async () => {
    const { topic, name, ids } = await setup(1);
    const [d] = await pull(name);
    const res = await http.post(`/v1/subscriptions/${name}/reject`, {
      ackIds: [d?.ackId],
      reason: "poison",
    });
    expect(res.body.results[0].status).toBe("ok");
    const dead = await http.get(`/v1/topics/${topic}.${name}.dlq/events`);
    expect(dead.body.events).toHaveLength(1);
    expect(dead.body.events[0]).toMatchObject({
      id: ids[0],
      deadletterreason: "poison",
      deadlettersubscription: name,
    });
    expect((await http.get(`/v1/subscriptions/${name}`)).body.stats.deadLettered).toBe(1);
  });

  it("settles nothing when one ackId is malformed", async () => {
    const { name } = await setup(2);
    const deliveries = await pull(name);
    const good = deliveries.map((d) => d.ackId);
    const bad = await http.post(`/v1/subscriptions/${name}/ack`, {
      ackIds: [good[0], "not-an-ack-id", good[1]],
    });
    expectProblem(bad, 400, "invalid_ack_id", "/ackIds/1");
    const reject = await http.post(`/v1/subscriptions/${name}/reject`, {
      ackIds: [good[0], 42],
      reason: "x",
    });
    expectProblem(reject, 400, "invalid_ack_id", "/ackIds/1");
    const ok = await http.post(`/v1/subscriptions/${name}/ack`, { ackIds: good });
    expect(ok.body.results.map((r: { status: string }) => r.status)).toEqual(["ok", "ok"]);
  });

  it("answers unknown for a well-formed ackId it never issued", async () => {
    const { name } = await setup(0);
    const res = await http.post(`/v1/subscriptions/${name}/ack`, { ackIds: ["0.zz.1"] });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ ackId: "0.zz.1", status: "unknown" }]);
  });

  it.each([
    ["ack", {}, "/ackIds"],
    ["ack", { ackIds: [] }, "/ackIds"],
    ["ack", { ackIds: "0.1.1" }, "/ackIds"],
    ["ack", { ackIds: ["0.1.1"], delayMs: 5 }, "/delayMs"],
    ["nack", { ackIds: ["0.1.1"], delayMs: -1 }, "/delayMs"],
    ["nack", { ackIds: ["0.1.1"], delayMs: 1e15 }, "/delayMs"],
    ["extend", { ackIds: ["0.1.1"], leaseMs: 0 }, "/leaseMs"],
    ["reject", { ackIds: ["0.1.1"] }, "/reason"],
    ["reject", { ackIds: ["0.1.1"], reason: "" }, "/reason"],
    ["pull", { max: 0 }, "/max"],
    ["pull", { max: 1001 }, "/max"],
    ["pull", { waitMs: -1 }, "/waitMs"],
    ["pull", { waitMs: 600_000 }, "/waitMs"],
    ["seek", {}, "/to"],
    ["seek", { to: "middle" }, "/to"],
    ["seek", { to: { offset: -1 } }, "/to/offset"],
    ["redrive", { limit: 0 }, "/limit"],
    ["redrive", { ids: [] }, "/ids"],
    ["redrive", { dryRun: "yes" }, "/dryRun"],
  ])("%s with %j answers 400 naming %s", async (op, body, pointer) => {
    const { name } = await setup(1);
    const [d] = await pull(name);
    expectProblem(
      await http.post(`/v1/subscriptions/${name}/${op}`, body),
      400,
      "invalid_request",
      pointer,
    );
    // Nothing was settled or moved: the delivery is still in flight and ackable.
    const ack = await http.post(`/v1/subscriptions/${name}/ack`, { ackIds: [d?.ackId] });
    expect(ack.body.results[0].status).toBe("ok");
  });

  it("answers 404 for unknown subscriptions and 400 for bad names", async () => {
    const missing = uniqueName("none");
    for (const op of ["pull", "ack", "seek", "redrive"])
      expectProblem(
        await http.post(
          `/v1/subscriptions/${missing}/${op}`,
          op === "ack" ? { ackIds: ["0.1.1"] } : op === "seek" ? { to: "latest" } : {},
        ),
        404,
        "subscription_not_found",
      );
    expectProblem(
      await http.post("/v1/subscriptions/bad.name/pull", {}),
      400,
      "invalid_name",
      "path:name",
    );
  });
});

describe("seek and redrive", () => {
  it("seeks to earliest, an offset and latest; old ackIds expire", async () => {
    const { topic, name, ids } = await setup(3);
    const before = await pull(name, { max: 1 });
    const earliest = await http.post(`/v1/subscriptions/${name}/seek`, { to: "earliest" });
    expect(earliest.status).toBe(200);
    expect(earliest.body).toEqual({ position: 1 });
    const old = await http.post(`/v1/subscriptions/${name}/ack`, { ackIds: [before[0]?.ackId] });
    expect(old.body.results[0].status).toBe("expired");
    expect((await pull(name, { max: 10 })).map((d) => d.event.id)).toEqual(ids);

    expect((await http.post(`/v1/subscriptions/${name}/seek`, { to: { offset: 3 } })).body).toEqual(
      { position: 3 },
    );
    expect((await pull(name, { max: 10 })).map((d) => d.event.id)).toEqual([ids[2]]);

    expect((await http.post(`/v1/subscriptions/${name}/seek`, { to: "latest" })).body).toEqual({
      position: 4,
    });
    expect(await pull(name)).toEqual([]);
    const time = await http.post(`/v1/subscriptions/${name}/seek`, {
      to: { time: "2000-01-01T00:00:00Z" },
    });
    expect(time.body).toEqual({ position: 1 });
    expect(topic).toBeTruthy();
  });

  it("redrives dead letters: dry run counts, the job moves them back with attempt 1", async () => {
    const { name, ids } = await setup(3);
    const deliveries = await pull(name, { max: 10 });
    await http.post(`/v1/subscriptions/${name}/reject`, {
      ackIds: deliveries.map((d) => d.ackId),
      reason: "bug 17",
    });

    const dry = await http.post(`/v1/subscriptions/${name}/redrive`, {
      dryRun: true,
      ids: [ids[0], ids[2]],
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ redrive: null, matched: 2, keys: 0 });
    expect(await pull(name)).toEqual([]);

    const started = await http.post(`/v1/subscriptions/${name}/redrive`, {});
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ matched: 3, keys: 0 });
    expect(typeof started.body.redrive).toBe("string");
    const job = await eventually(async () => {
      const res = await http.get(`/v1/subscriptions/${name}/redrives/${started.body.redrive}`);
      expect(res.status).toBe(200);
      expect(res.body.state).toBe("done");
      return res.body;
    });
    expect(job).toMatchObject({ matched: 3, moved: 3 });
    const again = await eventually(async () => {
      const d = await pull(name, { max: 10 });
      expect(d).toHaveLength(3);
      return d;
    });
    expect(again.map((d) => d.event.id).sort()).toEqual([...ids].sort());
    expect(again.every((d) => d.attempt === 1)).toBe(true);

    expectProblem(
      await http.get(`/v1/subscriptions/${name}/redrives/nope`),
      404,
      "redrive_not_found",
    );
  });
});
