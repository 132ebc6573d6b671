import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { type HttpSink, startSink } from "../../../test/support/http-sink.js";
import { SwitchyardError } from "../../core/errors.js";
import { SecretKeyRing } from "../../core/secret-box.js";
import { createEngine } from "../../engine/create-engine.js";
import type { Engine } from "../../engine/engine.js";
import { Broker, type PushOptions } from "../broker.js";
import type { Resolver } from "./endpoint-guard.js";

// The dispatcher inside a broker on a real SQLite store, pushing to real sinks on loopback,
// with the endpoint guard's DNS replaced so host names can point anywhere.

// One key for the whole file: a store reopened by a later broker must open with it.
const secretKeys = SecretKeyRing.generate();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}-${process.pid}`;

async function open(
  push: PushOptions,
  dataDir?: string,
): Promise<{ broker: Broker; engine: Engine; dir: string }> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "sy-push-"));
  const engine = await createEngine({ kind: "sqlite", dataDir: dir });
  const broker = new Broker({ engine, secretKeys, push: { reconcileIntervalMs: 0, ...push } });
  await broker.startDispatchers();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await broker.close();
    await engine.close();
  };
  cleanups.push(async () => {
    await close();
    if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
  });
  return { broker, engine, dir };
}

async function sink(...args: Parameters<typeof startSink>): Promise<HttpSink> {
  const s = await startSink(...args);
  cleanups.push(() => s.close());
  return s;
}

function resolver(answers: Record<string, string[][]>): Resolver {
  return async (host) => {
    const queue = answers[host];
    const next = queue && queue.length > 1 ? queue.shift() : queue?.[0];
    if (next === undefined) throw new Error(`ENOTFOUND ${host}`);
    return next.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

function event(id = unique("e")) {
  return { specversion: "1.0", id, source: "/t", type: "t", data: { id } };
}

async function setup(broker: Broker, url: string, extra: Record<string, unknown> = {}) {
  const topic = unique("topic");
  const name = unique("sub");
  await broker.putTopic(topic, {});
  await broker.putSubscription(name, {
    topic,
    backoff: { initialMs: 10, maxMs: 50, multiplier: 2 },
    ...extra,
    push: { url, ...((extra.push as object | undefined) ?? {}) },
  });
  return { topic, name };
}

describe("dispatcher and the endpoint guard", () => {
  it("connects to the vetted address, keeping the host name in Host", async () => {
    const s = await sink();
    const resolve = resolver({ "hooks.example": [["127.0.0.1"]] });
    const { broker } = await open({ allowPrivateEndpoints: true, resolve });
    const { topic, name } = await setup(broker, `http://hooks.example:${s.port}/in`);
    await broker.publish(topic, [event()], true);
    await eventually(() => expect(s.requests).toHaveLength(1));
    expect(s.requests[0]?.headers.host).toBe(`hooks.example:${s.port}`);
    await eventually(async () => expect((await broker.getSubscription(name)).stats?.acked).toBe(1));
  });

  it("checks again on every attempt: a host re-pointed at loopback is refused, nothing sent", async () => {
    const s = await sink();
    // Public at config time, loopback afterwards (DNS rebinding).
    const resolve = resolver({ "rebind.example": [["93.184.216.34"], ["127.0.0.1"]] });
    const { broker } = await open({ allowPrivateEndpoints: false, resolve, endpointCheckTtlMs: 0 });
    const { topic, name } = await setup(broker, `http://rebind.example:${s.port}/in`, {
      maxAttempts: 2,
    });
    const e = event();
    await broker.publish(topic, [e], true);
    await eventually(async () =>
      expect((await broker.getSubscription(name)).stats?.deadLettered).toBe(1),
    );
    expect(s.requests).toHaveLength(0);
    const attempts = await broker.attempts(name, { eventId: e.id });
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ status: null, eventId: e.id });
      expect(attempt.error).toMatch(/^refused: .*127\.0\.0\.1 \(loopback\)/);
    }
  });
});

describe("dispatcher lifecycle", () => {
  it("stops with the broker: requests in flight are handed back and delivered after a restart", async () => {
    const hanging = await sink(() => {}); // never answers
    const dir = mkdtempSync(join(tmpdir(), "sy-push-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const first = await open({ allowPrivateEndpoints: true }, dir);
    const { topic, name } = await setup(first.broker, hanging.url, {
      push: { timeoutMs: 60_000 },
    });
    await first.broker.publish(topic, [event()], true);
    await eventually(() => expect(hanging.requests).toHaveLength(1));
    const started = Date.now();
    await first.broker.close();
    await first.engine.close();
    expect(Date.now() - started).toBeLessThan(5_000); // not the 60 s request timeout

    const s = await sink();
    const second = await open({ allowPrivateEndpoints: true }, dir);
    await second.broker.putSubscription(name, { topic, push: { url: s.url } });
    await eventually(() => expect(s.requests).toHaveLength(1));
    await eventually(async () => {
      const attempts = await second.broker.attempts(name, {});
      expect(attempts.map((a) => a.error ?? "ok")).toEqual([
        "ok",
        "aborted: the router is stopping",
      ]);
    });
  });

  it("starts although the store cannot list subscriptions yet, and pushes once it can", async () => {
    const s = await sink();
    const dir = mkdtempSync(join(tmpdir(), "sy-push-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const first = await open({ allowPrivateEndpoints: true }, dir);
    const { topic } = await setup(first.broker, s.url);
    await first.broker.close();
    await first.engine.close();

    const engine = await createEngine({ kind: "sqlite", dataDir: dir });
    cleanups.push(() => engine.close());
    // The first two listings fail as a NATS store does during a leader election.
    const cursors = engine.cursors;
    const list = cursors.listSubscriptions.bind(cursors);
    let failures = 2;
    cursors.listSubscriptions = async (t?: string) => {
      if (failures-- > 0) throw new SwitchyardError("engine_unavailable", "no leader yet");
      return list(t);
    };
    const errors: unknown[] = [];
    const broker = new Broker({
      engine,
      secretKeys,
      push: {
        allowPrivateEndpoints: true,
        reconcileIntervalMs: 50,
        onError: (e) => errors.push(e),
      },
    });
    cleanups.push(() => broker.close());
    await broker.startDispatchers(); // resolves: the failure is reported, not thrown
    await broker.publish(topic, [event()], true);
    await eventually(() => expect(s.requests).toHaveLength(1));
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });

  it("keeps a pause across restarts", async () => {
    const s = await sink();
    const dir = mkdtempSync(join(tmpdir(), "sy-push-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const first = await open({ allowPrivateEndpoints: true }, dir);
    const { topic, name } = await setup(first.broker, s.url);
    await first.broker.pause(name, { reason: "maintenance" });
    await first.broker.close();
    await first.engine.close();

    const second = await open({ allowPrivateEndpoints: true }, dir);
    await second.broker.publish(topic, [event()], true);
    expect((await second.broker.getSubscription(name)).state).toBe("paused");
    await new Promise((resolve) => setTimeout(resolve, 200)); // bound for "nothing is sent"
    expect(s.requests).toHaveLength(0);
    await second.broker.resume(name);
    await eventually(() => expect(s.requests).toHaveLength(1));
  });

  it("stops pushing when the subscription is deleted or becomes a pull subscription", async () => {
    const s = await sink();
    const { broker } = await open({ allowPrivateEndpoints: true });
    const { topic, name } = await setup(broker, s.url);
    await broker.publish(topic, [event()], true);
    await eventually(() => expect(s.requests).toHaveLength(1));
    await broker.putSubscription(name, { topic });
    await broker.publish(topic, [event()], true);
    const pulled = await broker.pull(name, { max: 10, waitMs: 2_000 });
    expect(pulled).toHaveLength(1);
    expect(s.requests).toHaveLength(1);
  });

  it("answers the PUT that turns push off, and the DELETE, only after its last ack committed", async () => {
    for (const change of ["pull", "delete"] as const) {
      const s = await sink();
      // The store only: the broker under test is the one on the slow engine below.
      const { engine } = await open({ allowPrivateEndpoints: true, reconcileIntervalMs: 0 });
      // The engine takes each ack 300 ms late: long enough for an answer to overtake it.
      let acksStarted = 0;
      let acksDone = 0;
      const slowCursors = new Proxy(engine.cursors, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== "function") return value;
          // Methods run on the real store (its private fields are not the proxy's).
          if (prop !== "ack") return value.bind(target);
          return async (...args: unknown[]) => {
            acksStarted++;
            await new Promise((resolve) => setTimeout(resolve, 300));
            const result = await value.apply(target, args);
            acksDone++;
            return result;
          };
        },
      });
      const slowEngine = new Proxy(engine, {
        get(target, prop, receiver) {
          if (prop === "cursors") return slowCursors;
          const value = Reflect.get(target, prop, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const slow = new Broker({
        engine: slowEngine,
        secretKeys,
        push: { allowPrivateEndpoints: true, reconcileIntervalMs: 0 },
      });
      await slow.startDispatchers();
      cleanups.push(() => slow.close());
      const { topic, name } = await setup(slow, s.url);
      await slow.publish(topic, [event()], true);
      // The answer is in and its ack under way (a change made while the request is still in
      // flight aborts it, and the event goes back unacked: another path).
      await eventually(() => expect(acksStarted).toBe(1));
      expect(s.requests).toHaveLength(1);
      if (change === "pull") await slow.putSubscription(name, { topic });
      else await slow.deleteSubscription(name);
      expect(acksDone, `after the ${change}`).toBe(1);
    }
  });
});
