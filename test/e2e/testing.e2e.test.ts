/**
 * The test kit against its promises: with the router's time in the test's hands, leases
 * expire, nack delays and backoff elapse, final leases are swept to the dead-letter topic,
 * push retries run and retention removes old events, each after `advance` and without real
 * waiting; the store lives in a temporary folder that `close()` deletes.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startRouter } from "../../src/index.js";
import { createTestRouter, ManualClock, type TestRouter } from "../../src/testing/index.js";
import { answer204, answerStatus, type HttpSink, startSink } from "../support/http-sink.js";
import { TEST_SECRET_KEY } from "../support/router-process.js";

const kits: TestRouter[] = [];
const sinks: HttpSink[] = [];

afterEach(async () => {
  await Promise.all(kits.splice(0).map((kit) => kit.close()));
  await Promise.all(sinks.splice(0).map((sink) => sink.close()));
});

async function kit(): Promise<TestRouter> {
  const router = await createTestRouter();
  kits.push(router);
  return router;
}

/** A router with topic `t` and pull subscription `s` on it. */
async function withSubscription(settings: Record<string, unknown> = {}): Promise<TestRouter> {
  const router = await kit();
  await router.client.admin.topics.put("t");
  await router.client.admin.subscriptions.put("s", { topic: "t", ...settings });
  return router;
}

/** Resolves with what `work` resolves with, or "still waiting" after `ms` of real time. */
function within<T>(ms: number, work: Promise<T>): Promise<T | "still waiting"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"still waiting">((resolve) => {
    timer = setTimeout(() => resolve("still waiting"), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

describe("createTestRouter", () => {
  it("redelivers an unsettled event once advance passes its ackTimeoutMs", async () => {
    const router = await withSubscription({ ackTimeoutMs: 30_000 });
    const { admin } = router.client;
    await router.client.publish("t", { type: "x", data: { n: 1 } });
    const [first] = await admin.pull("s");
    expect(first?.attempt).toBe(1);
    await router.advance(29_999);
    expect(await admin.pull("s")).toEqual([]);
    await router.advance(1);
    const [again] = await admin.pull("s");
    expect({ id: again?.event.id, attempt: again?.attempt }).toEqual({
      id: first?.event.id,
      attempt: 2,
    });
    expect(await admin.ack("s", [first?.ackId ?? ""])).toMatchObject([{ status: "expired" }]);
  });

  it("holds a nacked event for its delay, and wakes a waiting pull when advance passes it", async () => {
    const router = await withSubscription();
    const { admin } = router.client;
    await router.client.publish("t", { type: "x", data: {} });
    const [first] = await admin.pull("s");
    await admin.nack("s", [first?.ackId ?? ""], 5_000);
    expect(await admin.pull("s")).toEqual([]);
    // A long poll of 20 real seconds, due in 5 s of router time: the jump must wake it.
    const waiting = admin.pull("s", { waitMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the pull is waiting
    await router.advance(4_999);
    expect(await within(100, waiting)).toBe("still waiting");
    await router.advance(1);
    const woken = await within(3_000, waiting);
    expect(woken === "still waiting" ? woken : woken.map((d) => d.attempt)).toEqual([2]);
  });

  it("lets the subscription's backoff elapse after a nack without a delay", async () => {
    const backoff = { initialMs: 60_000, multiplier: 2, maxMs: 600_000 };
    const router = await withSubscription({ backoff });
    const { admin } = router.client;
    await router.client.publish("t", { type: "x", data: {} });
    const [first] = await admin.pull("s");
    await admin.nack("s", [first?.ackId ?? ""]);
    await router.advance(backoff.initialMs); // full jitter: the delay is at most initialMs
    expect((await admin.pull("s")).map((d) => d.attempt)).toEqual([2]);
  });

  it("sweeps a final attempt whose lease ran out to the dead-letter topic, with nobody pulling", async () => {
    const router = await withSubscription({ ackTimeoutMs: 10_000, maxAttempts: 2 });
    const { admin } = router.client;
    await router.client.publish("t", { type: "x", data: { n: 1 } });
    expect((await admin.pull("s")).map((d) => d.attempt)).toEqual([1]);
    await router.advance(10_000);
    expect((await admin.pull("s")).map((d) => d.attempt)).toEqual([2]);
    expect(await router.published("t.s.dlq")).toEqual([]);
    await router.advance(10_000);
    const dead = await router.waitFor(async () => {
      const events = await router.published("t.s.dlq");
      return events.length > 0 && events;
    });
    expect(dead).toMatchObject([{ data: { n: 1 }, deadletterattempts: 2 }]);
  });

  it("runs a push retry when advance reaches the endpoint's Retry-After", async () => {
    const sink = await startSink(answerStatus(503, { "retry-after": "120" }));
    sinks.push(sink);
    const router = await kit();
    await router.client.admin.topics.put("t");
    await router.client.admin.subscriptions.put("hook", { topic: "t", push: { url: sink.url } });
    await router.client.publish("t", { type: "x", data: { n: 1 } });
    await router.waitFor(() => sink.requests.length === 1);
    sink.handle(answer204);
    await router.settled("hook");
    await router.advance(119_999);
    await new Promise((resolve) => setTimeout(resolve, 100)); // a retry, if one were due, would be sent by now
    expect(sink.requests).toHaveLength(1);
    await router.advance(1);
    await router.waitFor(() => sink.requests.length === 2);
    const acked = await router.waitFor(async () => {
      const { stats } = await router.client.admin.subscriptions.get("hook");
      return stats?.acked === 1;
    });
    expect(acked).toBe(true);
    expect(JSON.parse(sink.requests[1]?.text ?? "{}")).toEqual({ n: 1 }); // binary mode: the data
  });

  it("probes an endpoint whose circuit opened once advance ends the cool-down", async () => {
    const sink = await startSink(answerStatus(503, { "retry-after": "0" }));
    sinks.push(sink);
    const router = await createTestRouter({
      push: { circuitFailureThreshold: 3, circuitOpenMs: 60_000 },
    });
    kits.push(router);
    await router.client.admin.topics.put("t");
    // One at a time: no delivery is leased while the one that opens the circuit is in flight.
    const push = { url: sink.url };
    await router.client.admin.subscriptions.put("hook", { topic: "t", maxInFlight: 1, push });
    await router.client.publish("t", { type: "x", data: {} });
    await router.waitFor(async () => {
      const { health } = await router.client.admin.subscriptions.get("hook");
      return health?.circuit === "open"; // after 3 failures, retried at once (Retry-After 0)
    });
    await router.settled("hook");
    expect(sink.requests).toHaveLength(3);
    sink.handle(answer204);
    await router.advance(59_999);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.requests).toHaveLength(3);
    await router.advance(1);
    // The dispatcher sleeps on the router's clock: woken by the jump, not 60 real seconds later.
    const probed = await within(
      3_000,
      router.waitFor(() => sink.requests.length === 4),
    );
    expect(probed).toBe(true);
  });

  it("removes events past the topic's maxAgeMs once advance gets there", async () => {
    const router = await kit();
    const { admin } = router.client;
    const maxAgeMs = 7 * 24 * 3_600_000;
    await admin.topics.put("t", { retention: { maxAgeMs } });
    await router.client.publish("t", [
      { type: "x", data: { n: 1 } },
      { type: "x", data: { n: 2 } },
    ]);
    await router.advance(maxAgeMs - 60_000);
    expect(await router.published("t")).toHaveLength(2);
    await router.client.publish("t", { type: "x", data: { n: 3 } });
    await router.advance(120_000); // past the first two's age, and one retention run (30 s)
    const left = await router.published<{ n: number }>("t");
    expect(left.map((e) => e.data.n)).toEqual([3]);
  });

  it("answers no events for a topic that does not exist, and reads past one page", async () => {
    const router = await kit();
    expect(await router.published("nowhere")).toEqual([]);
    await router.client.admin.topics.put("t");
    const events = Array.from({ length: 1_500 }, (_, n) => ({ type: "x", data: { n } }));
    await router.client.publish("t", events);
    const read = await router.published<{ n: number }>("t");
    expect(read.map((e) => e.data.n)).toEqual(events.map((e) => e.data.n));
  });

  it("deletes its store on close, and close is idempotent", async () => {
    const router = await createTestRouter();
    expect(existsSync(router.dataDir)).toBe(true);
    await Promise.all([router.close(), router.close()]);
    expect(existsSync(router.dataDir)).toBe(false);
    await expect(fetch(`${router.url}/healthz`)).rejects.toThrow();
  });

  it("gives up waiting with the last failure as the cause", async () => {
    const router = await kit();
    const failure = new Error("not yet");
    const waited = router.waitFor(
      () => {
        throw failure;
      },
      { timeoutMs: 50 },
    );
    await expect(waited).rejects.toMatchObject({
      message: "waitFor: the condition did not hold within 50 ms",
      cause: failure,
    });
  });

  it("is refused a clock on the NATS engine, whose leases run on the server's time", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "switchyard-test-nats-"));
    try {
      const started = startRouter({
        dataDir,
        port: 0,
        engine: "nats",
        nats: { url: "nats://127.0.0.1:1" }, // never dialled: refused before connecting
        secretKeys: TEST_SECRET_KEY,
        clock: new ManualClock(),
        logLevel: "silent",
      });
      await expect(started).rejects.toMatchObject({
        code: "invalid_request",
        message: expect.stringContaining('a clock needs engine "sqlite"'),
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
