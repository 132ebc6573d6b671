import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  type Delivery,
  type Fetch,
  Reject,
  RetryAfter,
  type StoredEvent,
  type SwitchyardClient,
  SwitchyardClientError,
} from "../../src/client/index.js";
import { eventually } from "../support/eventually.js";
import { startTestRouter, type TestRouter, uniqueName } from "../support/router.js";

let router: TestRouter;
const clients: SwitchyardClient[] = [];

beforeAll(async () => {
  router = await startTestRouter({ autoCreateTopics: true });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 1_000 })));
});

afterAll(async () => {
  await router.dispose();
});

function client(options: { fetch?: Fetch } = {}): SwitchyardClient {
  const c = createClient({ url: router.url, source: "/e2e", ...options });
  clients.push(c);
  return c;
}

/** A topic with a pull subscription that starts at the beginning. */
async function topicWithSubscription(
  c: SwitchyardClient,
  settings: { ackTimeoutMs?: number; maxAttempts?: number } = {},
): Promise<{ topic: string; sub: string }> {
  const topic = uniqueName("topic");
  const sub = uniqueName("sub");
  await c.admin.topics.put(topic);
  await c.admin.subscriptions.put(sub, {
    topic,
    start: "earliest",
    backoff: { initialMs: 10, maxMs: 50, multiplier: 2 },
    ...settings,
  });
  return { topic, sub };
}

async function readAll(c: SwitchyardClient, topic: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let from = 1;
  for (;;) {
    const page = await c.admin.read(topic, { from, limit: 1_000 });
    events.push(...page.events);
    if (page.events.length === 0) return events;
    from = page.next;
  }
}

const errors: unknown[] = [];
const quiet = { onError: (error: unknown) => errors.push(error) };

describe("publish", () => {
  it("turns many concurrent publishes into a few batch requests", async () => {
    let requests = 0;
    const counting: Fetch = (url, init) => {
      if (url.endsWith("/events")) requests++;
      return fetch(url, init);
    };
    const c = client({ fetch: counting });
    const topic = uniqueName("batch");
    await c.admin.topics.put(topic);
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, n) =>
        c.publish<{ n: number }>(topic, { type: "n", data: { n } }),
      ),
    );
    expect(requests).toBeGreaterThan(0);
    expect(requests).toBeLessThanOrEqual(5);
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const stored = await readAll(c, topic);
    expect(stored.map((e) => e.data)).toEqual(Array.from({ length: 300 }, (_, n) => ({ n })));
    expect(stored[0]).toMatchObject({ specversion: "1.0", source: "/e2e", type: "n" });
  });

  it("keeps each key's order across batches sent concurrently", async () => {
    const c = createClient({ url: router.url, batch: { maxEvents: 50, maxInFlight: 4 } });
    clients.push(c);
    const topic = uniqueName("keys");
    await c.admin.topics.put(topic);
    const sent = Array.from({ length: 2_000 }, (_, n) => ({ key: `k${n % 7}`, n }));
    await Promise.all(
      sent.map(({ key, n }) => c.publish(topic, { type: "seq", partitionkey: key, data: n })),
    );
    const stored = await readAll(c, topic);
    expect(stored).toHaveLength(2_000);
    for (let k = 0; k < 7; k++) {
      const perKey = stored.filter((e) => e.partitionkey === `k${k}`).map((e) => e.data as number);
      expect(perKey).toEqual([...perKey].sort((a, b) => a - b));
    }
  });

  it("retries when the answer is lost, and the router stores the event once", async () => {
    let calls = 0;
    const losesFirstAnswer: Fetch = async (url, init) => {
      const response = await fetch(url, init);
      if (url.endsWith("/events") && calls++ === 0) {
        await response.text();
        throw new TypeError("fetch failed", { cause: new Error("socket hang up") });
      }
      return response;
    };
    const c = client({ fetch: losesFirstAnswer });
    const topic = uniqueName("retry");
    await c.admin.topics.put(topic);
    const result = await c.publish(topic, { type: "once" });
    expect(calls).toBe(2);
    expect(result).toMatchObject({ offset: 1, duplicate: true });
    expect(await readAll(c, topic)).toHaveLength(1);
  });

  it("rejects with the router's problem", async () => {
    const c = client();
    const error = await c.admin.topics.get(uniqueName("missing")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchyardClientError);
    expect(error).toMatchObject({ code: "topic_not_found", status: 404 });
    await expect(c.publish("no spaces allowed", { type: "t" })).rejects.toMatchObject({
      code: "invalid_name",
    });
  });
});

describe("subscribe", () => {
  it("never runs more handlers at once than its concurrency", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c);
    await c.publish(
      topic,
      Array.from({ length: 30 }, (_, n) => ({ type: "work", data: n })),
    );
    let running = 0;
    let most = 0;
    let mostLeased = 0;
    const handled: number[] = [];
    const subscriber = c.subscribe<number>(
      sub,
      async (delivery) => {
        running++;
        most = Math.max(most, running);
        // The handler's "work": asking the router how many events it has handed out.
        const stats = (await c.admin.subscriptions.get(sub)).stats;
        mostLeased = Math.max(mostLeased, stats?.inFlight ?? 0);
        handled.push(delivery.event.data);
        running--;
      },
      { concurrency: 3, ...quiet },
    );
    await subscriber.ready;
    await eventually(() => expect(handled).toHaveLength(30), { timeoutMs: 10_000 });
    expect(most).toBe(3);
    // Credit flow control: the router leases no more than there are free handlers (+1 for an
    // ack still committing while the credit that follows it is already counted).
    expect(mostLeased).toBeLessThanOrEqual(4);
    expect([...handled].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, n) => n));
  });

  it("redelivers an event whose handler threw, with attempt 2", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c);
    await c.publish(topic, { type: "flaky" });
    const attempts: number[] = [];
    c.subscribe(
      sub,
      (delivery) => {
        attempts.push(delivery.attempt);
        if (delivery.attempt === 1) throw new Error("transient");
      },
      quiet,
    );
    await eventually(() => expect(attempts).toEqual([1, 2]));
  });

  it("waits at least the RetryAfter delay before the next attempt", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c);
    await c.publish(topic, { type: "later" });
    const times: number[] = [];
    c.subscribe(
      sub,
      (delivery) => {
        times.push(Date.now());
        if (delivery.attempt === 1) throw new RetryAfter(400);
      },
      quiet,
    );
    await eventually(() => expect(times).toHaveLength(2));
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(380);
  });

  it("sends an event to the dead-letter topic when the handler throws Reject", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c);
    const { id } = await c.publish(topic, { type: "poison", data: { bad: true } });
    c.subscribe(
      sub,
      () => {
        throw new Reject("cannot parse the order");
      },
      quiet,
    );
    const { deadLetterTopic } = await c.admin.subscriptions.get(sub);
    const [dead] = await eventually(async () => {
      const events = await readAll(c, deadLetterTopic);
      expect(events).toHaveLength(1);
      return events;
    });
    expect(dead).toMatchObject({ id, deadlettersubscription: sub });
    expect(String(dead?.deadletterreason)).toContain("cannot parse the order");
  });

  it("keeps extending the lease of a handler that outlives ackTimeoutMs", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c, { ackTimeoutMs: 500 });
    await c.publish(topic, { type: "slow" });
    const deliveries: Delivery[] = [];
    let finished = 0;
    c.subscribe(
      sub,
      async (delivery) => {
        deliveries.push(delivery);
        await new Promise((resolve) => setTimeout(resolve, 2_000)); // four lease lengths of work
        finished++;
      },
      { concurrency: 2, ...quiet },
    );
    await eventually(() => expect(finished).toBe(1), { timeoutMs: 10_000 });
    await eventually(async () =>
      expect((await c.admin.subscriptions.get(sub)).stats?.acked).toBe(1),
    );
    // Bound for the negative check: two lease lengths after the ack, nothing came back.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(deliveries.map((d) => d.attempt)).toEqual([1]);
    expect(deliveries[0]?.leaseLost).toBe(false);
  });

  it("holds the lease as long as a handler asks with extend(ms)", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c, { ackTimeoutMs: 300 });
    await c.publish(topic, { type: "long" });
    const attempts: number[] = [];
    let finished = false;
    c.subscribe(
      sub,
      async (delivery) => {
        attempts.push(delivery.attempt);
        expect(await delivery.extend(3_000)).toBe("ok");
        await new Promise((resolve) => setTimeout(resolve, 1_200)); // four lease lengths
        finished = true;
      },
      // No automatic renewals in this window: only the handler's own extend holds the lease.
      { extendEveryMs: 60_000, ...quiet },
    );
    await eventually(() => expect(finished).toBe(true), { timeoutMs: 10_000 });
    await eventually(async () =>
      expect((await c.admin.subscriptions.get(sub)).stats?.acked).toBe(1),
    );
    expect(attempts).toEqual([1]);
  });

  it("close() waits for running handlers and acks what they finished", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c);
    await c.publish(topic, { type: "in-progress" });
    let started = false;
    let finishedAt = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const subscriber = c.subscribe(
      sub,
      async () => {
        started = true;
        await gate;
        finishedAt = Date.now();
      },
      quiet,
    );
    await eventually(() => expect(started).toBe(true));
    const closing = subscriber.close({ timeoutMs: 10_000 });
    setTimeout(release, 300);
    await closing;
    const closedAt = Date.now();
    expect(finishedAt).toBeGreaterThan(0);
    expect(finishedAt).toBeLessThanOrEqual(closedAt);
    expect(subscriber.running).toBe(0);
    const stats = (await c.admin.subscriptions.get(sub)).stats;
    expect(stats).toMatchObject({ acked: 1, inFlight: 0 });
  });

  it("close() with a timeout hands unfinished events back for redelivery", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c);
    await c.publish(topic, { type: "stuck" });
    let started = false;
    const stuck = c.subscribe(
      sub,
      async () => {
        started = true;
        await new Promise(() => {}); // never finishes
      },
      quiet,
    );
    await eventually(() => expect(started).toBe(true));
    await stuck.close({ timeoutMs: 100 });
    const attempts: number[] = [];
    c.subscribe(sub, (d) => void attempts.push(d.attempt), quiet);
    await eventually(() => expect(attempts).toEqual([2]));
  });

  it("links events published by a handler to the event it handled", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c);
    const effects = uniqueName("effects");
    await c.admin.topics.put(effects);
    const root = await c.publish(topic, { type: "root" });
    const child = await c.publish(topic, { type: "child", correlationid: "journey-7" });
    let handled = 0;
    c.subscribe(
      sub,
      async (delivery) => {
        await delivery.publish(effects, { type: `explicit.${delivery.event.type}` });
        await c.publish(effects, { type: `context.${delivery.event.type}` });
        handled++;
      },
      quiet,
    );
    await eventually(() => expect(handled).toBe(2));
    const published = await readAll(c, effects);
    const byType = new Map(published.map((e) => [e.type, e]));
    for (const how of ["explicit", "context"]) {
      expect(byType.get(`${how}.root`)).toMatchObject({
        causationid: root.id,
        correlationid: root.id,
      });
      expect(byType.get(`${how}.child`)).toMatchObject({
        causationid: child.id,
        correlationid: "journey-7",
      });
    }
    const outside = await c.publish(effects, { type: "outside" });
    const [plain] = (await readAll(c, effects)).filter((e) => e.id === outside.id);
    expect(plain?.causationid).toBeUndefined();
  });

  it("reconnects when the router restarts, and goes on consuming", async () => {
    const own = await startTestRouter({ autoCreateTopics: true });
    const c = createClient({
      url: own.url,
      retry: { retries: 20, initialDelayMs: 20, maxDelayMs: 200 },
    });
    clients.push(c);
    const { topic, sub } = await topicWithSubscription(c);
    const seen: string[] = [];
    const subscriber = c.subscribe(sub, (d) => void seen.push(d.event.type), {
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      ...quiet,
    });
    await subscriber.ready;
    await c.publish(topic, { type: "before" });
    await eventually(() => expect(seen).toEqual(["before"]));
    await own.close();
    const again = await startTestRouter({
      dataDir: own.dataDir,
      port: own.port,
      autoCreateTopics: true,
    });
    try {
      await c.publish(topic, { type: "after" });
      await eventually(() => expect(seen).toEqual(["before", "after"]), { timeoutMs: 10_000 });
    } finally {
      await subscriber.close({ timeoutMs: 1_000 });
      await again.dispose();
    }
  });

  it("rejects `ready` for an unknown subscription", async () => {
    const c = client();
    const seen: unknown[] = [];
    const subscriber = c.subscribe(uniqueName("ghost"), () => {}, { onError: (e) => seen.push(e) });
    await expect(subscriber.ready).rejects.toMatchObject({ code: "subscription_not_found" });
    await subscriber.closed;
  });
});

describe("admin", () => {
  it("manages topics and subscriptions", async () => {
    const c = client();
    const topic = uniqueName("admin");
    const sub = uniqueName("adminsub");
    expect((await c.admin.topics.put(topic, { dedupeWindowMs: 60_000 })).created).toBe(true);
    expect((await c.admin.topics.put(topic, { dedupeWindowMs: 30_000 })).created).toBe(false);
    expect(await c.admin.topics.get(topic)).toMatchObject({ name: topic, dedupeWindowMs: 30_000 });
    expect((await c.admin.topics.list()).map((t) => t.name)).toContain(topic);
    const created = await c.admin.subscriptions.put(sub, { topic, ackTimeoutMs: 5_000 });
    expect(created).toMatchObject({
      created: true,
      subscription: { name: sub, ackTimeoutMs: 5_000 },
    });
    expect((await c.admin.subscriptions.list()).map((s) => s.name)).toContain(sub);
    await expect(c.admin.topics.delete(topic)).rejects.toMatchObject({ code: "topic_in_use" });
    await c.admin.subscriptions.delete(sub);
    await c.admin.topics.delete(topic);
    await expect(c.admin.subscriptions.get(sub)).rejects.toMatchObject({
      code: "subscription_not_found",
    });
  });

  it("pulls, settles, seeks and redrives", async () => {
    const c = client();
    const { topic, sub } = await topicWithSubscription(c);
    await c.publish(topic, [{ type: "a" }, { type: "b" }]);
    const pulled = await c.admin.pull(sub, { max: 10, waitMs: 1_000 });
    expect(pulled.map((d) => d.event.type)).toEqual(["a", "b"]);
    const [a, b] = pulled;
    expect(await c.admin.ack(sub, [a?.ackId ?? ""])).toEqual([{ ackId: a?.ackId, status: "ok" }]);
    expect(await c.admin.reject(sub, [b?.ackId ?? ""], "manual")).toEqual([
      { ackId: b?.ackId, status: "ok" },
    ]);
    const dry = await c.admin.redrive(sub, { dryRun: true });
    expect(dry).toMatchObject({ matched: 1 });
    const started = await c.admin.redrive(sub);
    expect(started.redrive).toBeTypeOf("string");
    await eventually(async () =>
      expect(await c.admin.redriveStatus(sub, started.redrive ?? "")).toMatchObject({
        state: "done",
        moved: 1,
      }),
    );
    const again = await c.admin.pull(sub, { max: 10, waitMs: 1_000 });
    expect(again.map((d) => [d.event.type, d.attempt])).toEqual([["b", 1]]);
    expect(await c.admin.seek(sub, "earliest")).toEqual({ position: 1 });
    const replayed = await c.admin.pull(sub, { max: 10, waitMs: 1_000 });
    expect(replayed.map((d) => d.event.type)).toEqual(["a", "b"]);
  });

  it("answers info and health", async () => {
    const c = client();
    expect(await c.admin.health()).toEqual({ alive: true, ready: true });
    expect(await c.admin.info()).toMatchObject({ version: expect.any(String) });
    const down = createClient({ url: "http://127.0.0.1:1", retry: { retries: 0 } });
    expect(await down.admin.health()).toEqual({ alive: false, ready: false });
    await expect(down.admin.info()).rejects.toMatchObject({ code: "unreachable" });
  });
});
