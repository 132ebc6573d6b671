import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import {
  answer204,
  answerStatus,
  type HttpSink,
  type SinkRequest,
  startSink,
} from "../support/http-sink.js";
import {
  type Api,
  api,
  event,
  expectProblem,
  startTestRouter,
  type TestRouter,
  uniqueName,
} from "../support/router.js";

// Push delivery end to end: a router on loopback (private endpoints allowed, fast circuit)
// pushing to real HTTP sinks on loopback.

let router: TestRouter;
let http: Api;
const sinks: HttpSink[] = [];

const FAST_BACKOFF = { initialMs: 10, maxMs: 100, multiplier: 2 };
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

beforeAll(async () => {
  router = await startTestRouter({
    allowPrivateEndpoints: true,
    push: { circuitFailureThreshold: 3, circuitOpenMs: 50, circuitMaxOpenMs: 200 },
  });
  http = api(router.url);
});
afterAll(async () => {
  await router?.dispose();
  await Promise.all(sinks.map((s) => s.close()));
});

async function sink(...args: Parameters<typeof startSink>): Promise<HttpSink> {
  const s = await startSink(...args);
  sinks.push(s);
  return s;
}

async function topic(): Promise<string> {
  const name = uniqueName("push");
  expect((await http.put(`/v1/topics/${name}`, {})).status).toBe(201);
  return name;
}

async function subscribe(
  topicName: string,
  push: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const name = uniqueName("sub");
  const res = await http.put(`/v1/subscriptions/${name}`, {
    topic: topicName,
    backoff: FAST_BACKOFF,
    ...extra,
    push,
  });
  expect(res.status, res.text).toBe(201);
  return name;
}

async function stats(name: string) {
  return (await http.get(`/v1/subscriptions/${name}`)).body.stats;
}

const ok = (r: SinkRequest, answered: Set<SinkRequest>) => answered.has(r);

/** A handler that fails while `down()` is true and records which requests it acknowledged. */
function flaky(down: () => boolean, acked: Set<SinkRequest>) {
  return (req: SinkRequest, res: import("node:http").ServerResponse) => {
    if (down()) res.writeHead(503).end("down for maintenance");
    else {
      acked.add(req);
      res.writeHead(204).end();
    }
  };
}

describe("push delivery", () => {
  it("delivers binary mode by default, signed with every secret, webhook-id per event", async () => {
    const s = await sink();
    const t = await topic();
    const other = "whsec_dGhpcy1pcy1hbm90aGVyLXNlY3JldC0xMjM0NTY3OA==";
    const name = await subscribe(t, {
      url: s.url,
      secrets: [SECRET, other],
      headers: { authorization: "Bearer x" },
    });
    const published = event({ data: { total: 42 }, partitionkey: "c-1", subject: "ord/1" });
    await http.publish(t, published);
    await eventually(() => expect(s.requests).toHaveLength(1));
    const req = s.requests[0] as SinkRequest;
    expect(req.path).toBe("/hook");
    expect(req.text).toBe('{"total":42}');
    expect(req.headers).toMatchObject({
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": published.id,
      "ce-source": "/test",
      "ce-type": "test.happened",
      "ce-subject": "ord/1",
      "ce-partitionkey": "c-1",
      "ce-topic": t,
      "ce-offset": "1",
      authorization: "Bearer x",
    });
    const headers = req.headers as Record<string, string>;
    expect(headers["webhook-id"]).toMatch(/^msg_/);
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(() => new Webhook(SECRET).verify(req.text, headers)).not.toThrow();
    expect(() => new Webhook(other).verify(req.text, headers)).not.toThrow();
    await eventually(async () => expect((await stats(name)).acked).toBe(1));
    const metrics = (await http.get("/metrics")).text;
    expect(metrics).toContain(`switchyard_push_requests_total{subscription="${name}"} 1`);
    expect(metrics).toContain(`switchyard_pushed_events_total{subscription="${name}"} 1`);
    // The pushed ack is one append → ack observation (made right after the ack commits).
    await eventually(async () =>
      expect((await http.get("/metrics")).text).toContain(
        `switchyard_delivery_latency_seconds_count{subscription="${name}"} 1\n`,
      ),
    );
  });

  it("sends structured mode on request", async () => {
    const s = await sink();
    const t = await topic();
    await subscribe(t, { url: s.url, mode: "structured" });
    const published = event({ data: { a: 1 } });
    await http.publish(t, published);
    await eventually(() => expect(s.requests).toHaveLength(1));
    expect(s.requests[0]?.headers["content-type"]).toMatch(/^application\/cloudevents\+json/);
    expect(JSON.parse(s.requests[0]?.text ?? "")).toMatchObject({
      id: published.id,
      data: { a: 1 },
      topic: t,
      offset: 1,
    });
  });

  it("sends batches of at most maxEvents, every event once, in order", async () => {
    const s = await sink();
    const t = await topic();
    const name = await subscribe(t, { url: s.url, batch: { maxEvents: 10, lingerMs: 100 } });
    const events = Array.from({ length: 25 }, (_, i) => event({ data: { i } }));
    await http.publish(t, events);
    await eventually(async () => expect((await stats(name)).acked).toBe(25));
    for (const r of s.requests)
      expect(r.headers["content-type"]).toMatch(/^application\/cloudevents-batch\+json/);
    const batches = s.requests.map((r) => JSON.parse(r.text) as { data: { i: number } }[]);
    expect(batches.every((b) => b.length >= 1 && b.length <= 10)).toBe(true);
    expect(batches.length).toBeLessThan(25);
    expect(batches.flat().map((e) => e.data.i)).toEqual(events.map((_, i) => i));
  });

  it("fans out to 100 push subscriptions: every event reaches every sink", async () => {
    const t = await topic();
    const all = await Promise.all(Array.from({ length: 100 }, () => sink()));
    const names = await Promise.all(all.map((s) => subscribe(t, { url: s.url })));
    const events = Array.from({ length: 20 }, (_, i) => event({ data: { i } }));
    await http.publish(t, events);
    await eventually(
      () => {
        for (const s of all) expect(s.requests.length).toBeGreaterThanOrEqual(20);
      },
      { timeoutMs: 20_000 },
    );
    const ids = events.map((e) => e.id).sort();
    for (const s of all) expect(s.requests.map((r) => r.headers["ce-id"]).sort()).toEqual(ids);
    await eventually(async () => {
      for (const name of names.slice(0, 5)) expect((await stats(name)).acked).toBe(20);
    });
  });

  it("rides out an endpoint that is down for a while: all delivered, in order per key", async () => {
    let down = true;
    const acked = new Set<SinkRequest>();
    const s = await sink(flaky(() => down, acked));
    const t = await topic();
    const name = await subscribe(t, { url: s.url }, { ordering: "key", maxAttempts: 1_000 });
    const keys = ["a", "b", "c"];
    const events = Array.from({ length: 30 }, (_, i) =>
      event({ partitionkey: keys[i % 3], data: { i } }),
    );
    await http.publish(t, events);
    await eventually(async () => {
      const sub = (await http.get(`/v1/subscriptions/${name}`)).body;
      expect(sub.state).toBe("degraded");
      expect(sub.health.consecutiveFailures).toBeGreaterThanOrEqual(3);
    });
    const failedWhileDown = s.requests.length;
    down = false;
    await eventually(async () => expect((await stats(name)).acked).toBe(30), { timeoutMs: 15_000 });
    expect((await http.get(`/v1/subscriptions/${name}`)).body.state).toBe("healthy");
    // The circuit kept the outage from hammering: far fewer failed requests than attempts allowed.
    expect(failedWhileDown).toBeGreaterThanOrEqual(3);
    const delivered = s.requests.filter((r) => ok(r, acked));
    expect(delivered).toHaveLength(30);
    for (const key of keys) {
      const order = delivered
        .filter((r) => r.headers["ce-partitionkey"] === key)
        .map((r) => JSON.parse(r.text).i as number);
      expect(order).toEqual([...order].sort((x, y) => x - y));
      expect(order).toHaveLength(10);
    }
  });

  it("dead-letters after exactly maxAttempts with the last answer, then redrives and delivers", async () => {
    const s = await sink(answerStatus(500, {}, "database on fire"));
    const t = await topic();
    const name = await subscribe(t, { url: s.url }, { maxAttempts: 3 });
    const events = [event(), event()];
    await http.publish(t, events);
    await eventually(async () => expect((await stats(name)).deadLettered).toBe(2), {
      timeoutMs: 10_000,
    });
    const byWebhookId = new Map<string, number>();
    for (const r of s.requests) {
      const id = String(r.headers["webhook-id"]);
      byWebhookId.set(id, (byWebhookId.get(id) ?? 0) + 1);
    }
    expect([...byWebhookId.values()]).toEqual([3, 3]); // the same webhook-id on every retry
    const sub = (await http.get(`/v1/subscriptions/${name}`)).body;
    const dlq = (await http.get(`/v1/topics/${sub.deadLetterTopic}/events?from=1`)).body.events;
    expect(dlq).toHaveLength(2);
    expect(dlq[0].deadletterreason).toBe(
      "max attempts (3) reached; last: HTTP 500: database on fire",
    );
    expect(dlq[0].deadletterattempts).toBe(3);
    const first = events[0]?.id as string;
    const log = (await http.get(`/v1/subscriptions/${name}/attempts?eventId=${first}`)).body
      .attempts;
    expect(log.map((a: { attempt: number }) => a.attempt)).toEqual([3, 2, 1]);
    expect(log[0]).toMatchObject({ status: 500, error: "HTTP 500", response: "database on fire" });

    const before = new Set(byWebhookId.keys());
    s.handle(answer204);
    const redrive = await http.post(`/v1/subscriptions/${name}/redrive`, { actor: "test" });
    expect(redrive.status).toBe(202);
    expect(redrive.body).toMatchObject({ matched: 2, keys: 0 });
    await eventually(async () => expect((await stats(name)).acked).toBe(2), { timeoutMs: 10_000 });
    const redelivered = s.requests.slice(-2);
    for (const r of redelivered) expect(before.has(String(r.headers["webhook-id"]))).toBe(true);
    const job = await http.get(`/v1/subscriptions/${name}/redrives/${redrive.body.redrive}`);
    expect(job.body).toMatchObject({ state: "done", moved: 2, actor: "test" });
    const audit = (await http.get("/v1/topics/switchyard.audit/events?from=1&limit=1000")).body
      .events;
    const mine = audit.filter(
      (e: { subject: string; type: string }) =>
        e.subject === name && e.type.startsWith("switchyard.redrive."),
    );
    expect(mine.map((e: { type: string }) => e.type)).toEqual([
      "switchyard.redrive.started",
      "switchyard.redrive.finished",
    ]);
    // Without auth the actor is null; the client's claim is kept apart from it.
    expect(mine[1].data).toMatchObject({
      moved: 2,
      actor: null,
      clientActor: "test",
      state: "done",
    });
  });

  it("times out slow endpoints and says so", async () => {
    const s = await sink(() => {}); // never answers
    const t = await topic();
    const name = await subscribe(t, { url: s.url, timeoutMs: 200 }, { maxAttempts: 2 });
    const e = event();
    await http.publish(t, e);
    await eventually(async () => expect((await stats(name)).deadLettered).toBe(1), {
      timeoutMs: 10_000,
    });
    const log = (await http.get(`/v1/subscriptions/${name}/attempts`)).body.attempts;
    expect(log).toHaveLength(2);
    for (const a of log) {
      expect(a).toMatchObject({ status: null, error: "timeout: request timeout", eventId: e.id });
      expect(a.latencyMs).toBeGreaterThanOrEqual(190);
    }
  });

  it("honours Retry-After", async () => {
    const s = await sink(answerStatus(429, { "retry-after": "1" }));
    const t = await topic();
    const name = await subscribe(t, { url: s.url });
    await http.publish(t, event());
    await eventually(() => expect(s.requests).toHaveLength(1));
    s.handle(answer204);
    await eventually(async () => expect((await stats(name)).acked).toBe(1), { timeoutMs: 5_000 });
    const [first, second] = s.requests;
    // The backoff alone would have retried within 10 ms.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("never follows a redirect", async () => {
    const target = await sink();
    const s = await sink(answerStatus(302, { location: target.url }));
    const t = await topic();
    const name = await subscribe(t, { url: s.url }, { maxAttempts: 1 });
    await http.publish(t, event());
    await eventually(async () => expect((await stats(name)).deadLettered).toBe(1));
    expect(target.requests).toHaveLength(0);
    const sub = (await http.get(`/v1/subscriptions/${name}`)).body;
    const dlq = (await http.get(`/v1/topics/${sub.deadLetterTopic}/events?from=1`)).body.events;
    expect(dlq[0].deadletterreason).toMatch(/HTTP 302.*redirects are not followed/);
  });

  it("dead-letters a 4xx at once when the subscription says so, and retries it otherwise", async () => {
    const s = await sink(answerStatus(422, {}, "bad payload"));
    const t = await topic();
    const strict = await subscribe(
      t,
      { url: s.url, onClientError: "dead-letter" },
      { maxAttempts: 5 },
    );
    const lenient = await subscribe(t, { url: s.url }, { maxAttempts: 2 });
    await http.publish(t, event());
    await eventually(async () => {
      expect((await stats(strict)).deadLettered).toBe(1);
      expect((await stats(lenient)).deadLettered).toBe(1);
    });
    expect((await http.get(`/v1/subscriptions/${strict}/attempts`)).body.attempts).toHaveLength(1);
    expect((await http.get(`/v1/subscriptions/${lenient}/attempts`)).body.attempts).toHaveLength(2);
  });

  it("dead-letters events older than maxAgeMs instead of retrying them forever", async () => {
    const s = await sink(answerStatus(503));
    const t = await topic();
    const name = await subscribe(
      t,
      { url: s.url, maxAgeMs: 1_000 },
      { maxAttempts: 1_000, backoff: { initialMs: 100, maxMs: 200, multiplier: 2 } },
    );
    await http.publish(t, event());
    await eventually(async () => expect((await stats(name)).deadLettered).toBe(1), {
      timeoutMs: 10_000,
    });
    const sub = (await http.get(`/v1/subscriptions/${name}`)).body;
    const dlq = (await http.get(`/v1/topics/${sub.deadLetterTopic}/events?from=1`)).body.events;
    expect(dlq[0].deadletterreason).toMatch(/^max age \(1000 ms\) reached; last: HTTP 503/);
    expect(dlq[0].deadletterattempts).toBeLessThan(20);
  });

  it("pauses on 410 Gone until resumed", async () => {
    const s = await sink(answerStatus(410, {}, "endpoint removed"));
    const t = await topic();
    // One request at a time: a second one already on its way when the first 410 pauses the
    // subscription may reach the sink after `seen` is read on a loaded machine.
    const name = await subscribe(t, { url: s.url }, { maxInFlight: 1 });
    await http.publish(t, [event(), event()]);
    await eventually(async () => {
      const sub = (await http.get(`/v1/subscriptions/${name}`)).body;
      expect(sub.state).toBe("paused");
      expect(sub.health.pausedReason).toMatch(/410/);
    });
    const seen = s.requests.length;
    s.handle(answer204);
    // Bound for the negative check: 300 ms, thirty times the retry backoff.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(s.requests.length).toBe(seen);
    const resumed = await http.post(`/v1/subscriptions/${name}/resume`, {});
    expect(resumed.status).toBe(200);
    expect(resumed.body.state).not.toBe("paused");
    await eventually(async () => expect((await stats(name)).acked).toBe(2));
  });

  it("pauses and resumes by API; a pull subscription answers 409", async () => {
    const s = await sink();
    const t = await topic();
    const name = await subscribe(t, { url: s.url });
    const paused = await http.post(`/v1/subscriptions/${name}/pause`, { reason: "deploying" });
    expect(paused.body).toMatchObject({ state: "paused", health: { pausedReason: "deploying" } });
    await http.publish(t, event());
    await new Promise((resolve) => setTimeout(resolve, 300)); // bound for "nothing is sent"
    expect(s.requests).toHaveLength(0);
    await http.post(`/v1/subscriptions/${name}/resume`);
    await eventually(() => expect(s.requests).toHaveLength(1));
    // A PUT of the config keeps the pause state it does not carry.
    await http.post(`/v1/subscriptions/${name}/pause`);
    const put = await http.put(`/v1/subscriptions/${name}`, { topic: t, push: { url: s.url } });
    expect(put.body.state).toBe("paused");

    const pull = uniqueName("pull");
    await http.put(`/v1/subscriptions/${pull}`, { topic: t });
    expectProblem(await http.post(`/v1/subscriptions/${pull}/pause`), 409, "conflict");
    expectProblem(
      await http.post("/v1/subscriptions/nope-404/resume"),
      404,
      "subscription_not_found",
    );
  });

  it("limits the request rate", async () => {
    const s = await sink();
    const t = await topic();
    const name = await subscribe(t, { url: s.url, ratePerSecond: 20 });
    await http.publish(
      t,
      Array.from({ length: 30 }, () => event()),
    );
    await eventually(async () => expect((await stats(name)).acked).toBe(30), { timeoutMs: 10_000 });
    const span = (s.requests.at(-1)?.at ?? 0) - (s.requests[0]?.at ?? 0);
    // 20 at once (a second's worth), then 20/s: the last 10 take at least ~500 ms.
    expect(span).toBeGreaterThanOrEqual(400);
  });

  it("answers a PUT that turns push off, or a DELETE, only once no push attempt can still settle", async () => {
    for (const change of ["pull", "delete"] as const) {
      // An endpoint that holds every request for a while: the change lands mid-request.
      const s = await sink((_req, res) => {
        setTimeout(() => res.writeHead(204).end(), 400);
      });
      const t = await topic();
      const name = await subscribe(t, { url: s.url }, { maxInFlight: 10 });
      expect((await http.publish(t, [event(), event(), event(), event()])).status).toBe(201);
      await eventually(() => expect(s.requests.length).toBe(4));
      const answer =
        change === "pull"
          ? await http.put(`/v1/subscriptions/${name}`, { topic: t, backoff: FAST_BACKOFF })
          : await http.del(`/v1/subscriptions/${name}`);
      expect(answer.status, answer.text).toBe(change === "pull" ? 200 : 204);
      if (change === "delete") continue; // nothing left to settle into
      const settled = async () => {
        const { oldestUnackedAgeMs: _age, ...rest } = await stats(name);
        return rest;
      };
      const atAnswer = await settled();
      // The held requests are answered 204 after this; none of them may be acked now.
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(await settled()).toEqual(atAnswer);
      expect(atAnswer).toMatchObject({ acked: 0, inFlight: 0 });
      // The events wait for a pull, under the attempt they had (never more than maxAttempts).
      const pulled = await http.post(`/v1/subscriptions/${name}/pull`, { max: 10, waitMs: 0 });
      expect(pulled.body.deliveries).toHaveLength(4);
    }
  });

  it("validates push settings", async () => {
    const t = await topic();
    const bad = async (push: Record<string, unknown>, pointer: string) =>
      expectProblem(
        await http.put(`/v1/subscriptions/${uniqueName("bad")}`, { topic: t, push }),
        400,
        "invalid_request",
        pointer,
      );
    await bad(
      { url: "http://x.test/", headers: { "content-type": "x" } },
      "/push/headers/content-type",
    );
    await bad(
      { url: "http://x.test/", headers: { "webhook-id": "x" } },
      "/push/headers/webhook-id",
    );
    await bad({ url: "http://x.test/", batch: { maxEvents: 0 } }, "/push/batch/maxEvents");
    await bad({ url: "http://x.test/", onClientError: "drop" }, "/push/onClientError");
    await bad({ url: "http://x.test/", ratePerSecond: -1 }, "/push/ratePerSecond");
    expectProblem(
      await http.get(`/v1/subscriptions/${uniqueName("x")}/attempts?limit=0`),
      400,
      "invalid_request",
      "query:limit",
    );
  });
});

describe("push circuit", () => {
  let slow: TestRouter;
  let slowHttp: Api;
  beforeAll(async () => {
    // A cool-down far longer than the test: if the circuit trips, the healthy event waits.
    slow = await startTestRouter({
      allowPrivateEndpoints: true,
      push: { circuitFailureThreshold: 3, circuitOpenMs: 60_000, circuitMaxOpenMs: 60_000 },
    });
    slowHttp = api(slow.url);
  });
  afterAll(async () => slow?.dispose());

  it("does not let one event the endpoint refuses hold back the others", async () => {
    // 431 is what Node answers to a binary-mode event whose ce-* headers are too large.
    const s = await sink((req, res) => {
      res.writeHead(req.headers["ce-id"] === "poison" ? 431 : 204).end();
    });
    const t = uniqueName("push");
    expect((await slowHttp.put(`/v1/topics/${t}`, {})).status).toBe(201);
    const name = uniqueName("sub");
    const put = await slowHttp.put(`/v1/subscriptions/${name}`, {
      topic: t,
      backoff: FAST_BACKOFF,
      maxAttempts: 1_000,
      push: { url: s.url },
    });
    expect(put.status, put.text).toBe(201);
    await slowHttp.publish(t, event({ id: "poison" }));
    await eventually(async () => {
      const sub = (await slowHttp.get(`/v1/subscriptions/${name}`)).body;
      expect(sub.health.consecutiveFailures).toBeGreaterThanOrEqual(5);
      expect(sub.state).toBe("degraded");
      expect(sub.health.circuit).toBe("closed");
    });
    await slowHttp.publish(t, event({ id: "healthy" }));
    await eventually(() =>
      expect(s.requests.some((r) => r.headers["ce-id"] === "healthy")).toBe(true),
    );
  });
});

describe("push safety", () => {
  let strict: TestRouter;
  let strictHttp: Api;
  beforeAll(async () => {
    strict = await startTestRouter({});
    strictHttp = api(strict.url);
  });
  afterAll(async () => strict?.dispose());

  it("refuses private endpoints when allowPrivateEndpoints is off (the default)", async () => {
    const t = uniqueName("safe");
    await strictHttp.put(`/v1/topics/${t}`, {});
    for (const url of [
      "http://127.0.0.1:9/hook",
      "http://localhost:9/hook",
      "http://[::1]:9/",
      "http://2130706433/",
      "http://0x7f.1/",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.1.2.3/",
      "http://[::ffff:192.168.0.1]/",
      "file:///etc/passwd",
    ]) {
      const res = await strictHttp.put(`/v1/subscriptions/${uniqueName("p")}`, {
        topic: t,
        push: { url },
      });
      expect(res.status, url).toBe(400);
      expect(res.body.code === "invalid_endpoint" || res.body.code === "invalid_request", url).toBe(
        true,
      );
    }
  });
});

describe("redrive pacing", () => {
  it("moves a pull subscription's dead letters in chunks at the given rate, in order per key", async () => {
    const t = await topic();
    const name = uniqueName("pull");
    await http.put(`/v1/subscriptions/${name}`, { topic: t, start: "earliest", ordering: "key" });
    const events = Array.from({ length: 30 }, (_, i) =>
      event({ partitionkey: `k${i % 2}`, data: { i } }),
    );
    await http.publish(t, events);
    // Reject everything: under key ordering one event per key is out at a time.
    await eventually(
      async () => {
        const pulled = (await http.post(`/v1/subscriptions/${name}/pull`, { max: 100 })).body;
        const ackIds = pulled.deliveries.map((d: { ackId: string }) => d.ackId);
        if (ackIds.length > 0)
          await http.post(`/v1/subscriptions/${name}/reject`, { ackIds, reason: "poison" });
        expect((await stats(name)).deadLettered).toBe(30);
      },
      { timeoutMs: 10_000 },
    );
    const started = Date.now();
    const redrive = await http.post(`/v1/subscriptions/${name}/redrive`, {
      chunkSize: 10,
      ratePerSecond: 40,
    });
    expect(redrive.body).toMatchObject({ matched: 30, keys: 2 });
    const progress = new Set<number>();
    await eventually(
      async () => {
        const job = (await http.get(`/v1/subscriptions/${name}/redrives/${redrive.body.redrive}`))
          .body;
        progress.add(job.moved);
        expect(job.state).toBe("done");
        expect(job.moved).toBe(30);
      },
      { timeoutMs: 10_000, intervalMs: 5 },
    );
    // 10 at once, then 40/s: the last chunk starts no earlier than 500 ms in.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect([...progress].some((moved) => moved > 0 && moved < 30)).toBe(true);
    const seen: number[][] = [[], []];
    await eventually(
      async () => {
        const pulled = (await http.post(`/v1/subscriptions/${name}/pull`, { max: 100 })).body;
        for (const d of pulled.deliveries) {
          seen[Number(String(d.event.partitionkey).slice(1))]?.push(d.event.data.i);
          await http.post(`/v1/subscriptions/${name}/ack`, { ackIds: [d.ackId] });
        }
        expect(seen.flat()).toHaveLength(30);
      },
      { timeoutMs: 10_000 },
    );
    for (const order of seen) expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});
