/**
 * Push delivery: how fast the router POSTs a backlog to a local sink that answers 204 at once
 * (one event per request, then batches), and the latency from `publish()` to the sink at a
 * steady 2,000 events/s. The sink runs in the bench process, so one clock times both ends.
 */
import { watchCpu } from "../cpu.ts";
import { delay, until } from "../load.ts";
import { type PushSink, startPushSink } from "../push-sink.ts";
import { percentileOfSorted, perSecond } from "../stats.ts";
import type { PushTarget, SubjectSession } from "../subjects/subject.ts";
import type { Measurement, Scenario, ScenarioContext, Trial } from "./scenario.ts";

const DRAIN_MAX_MS = 300_000;
const LATENCY_RATE = 2_000;
const SETTLE_MS = 10_000;

function requirePush(
  session: SubjectSession,
): NonNullable<SubjectSession["createPushSubscription"]> {
  const create = session.createPushSubscription?.bind(session);
  if (create === undefined) throw new Error("this system has no push delivery");
  return create;
}

function pushDrain(
  name: string,
  title: string,
  target: number,
  batch?: PushTarget["batch"],
): Scenario {
  return {
    name,
    title,
    unit: "events/s",
    target: { op: ">=", value: target },
    setup: "shared",
    async open(context: ScenarioContext): Promise<Trial> {
      const session = await context.subject.open();
      const create = requirePush(session);
      const topic = `bench-${name}-${process.pid}-${Date.now()}`;
      const count = context.quick ? 20_000 : 300_000;
      await session.createTopic(topic);
      await session.preload(topic, count);
      let runs = 0;
      return {
        async measure() {
          const seen = new Uint8Array(count);
          let distinct = 0;
          let deliveries = 0;
          const sink = await startPushSink((fields) => {
            deliveries++;
            const seq = fields.seq ?? -1;
            if (seq >= 0 && seq < count && seen[seq] === 0) {
              seen[seq] = 1;
              distinct++;
            }
          });
          try {
            const started = performance.now();
            const cpu = watchCpu(session);
            await create(topic, `${topic}-${++runs}`, {
              url: sink.url,
              ...(batch ? { batch } : {}),
            });
            const complete = await until(() => distinct >= count, DRAIN_MAX_MS, 5);
            const elapsedMs = performance.now() - started;
            const used = cpu(distinct);
            if (!complete)
              throw new Error(`pushed ${distinct}/${count} events in ${DRAIN_MAX_MS} ms`);
            return {
              value: perSecond(distinct, elapsedMs),
              details: {
                events: distinct,
                requests: sink.requests(),
                seconds: elapsedMs / 1000,
                redeliveries: deliveries - distinct,
                ...used,
              },
            };
          } finally {
            await sink.close();
          }
        },
        close: () => session.close(),
      };
    },
  };
}

export const pushDeliveries = pushDrain(
  "push",
  "push deliveries/s to a 204 sink, one event per request",
  20_000,
);

export const pushBatched = pushDrain(
  "push-batched",
  "push deliveries/s to a 204 sink, batches of 100",
  20_000,
  { maxEvents: 100, lingerMs: 5 },
);

export const pushLatency: Scenario = {
  name: "push-latency",
  title: "publish-to-sink latency at 2,000 events/s",
  unit: "ms p99",
  target: { op: "<=", value: 50 },
  setup: "per-run",
  async open(context: ScenarioContext): Promise<Trial> {
    const session = await context.subject.open();
    const create = requirePush(session);
    const topic = `bench-push-latency-${process.pid}-${Date.now()}`;
    await session.createTopic(topic);
    const seconds = context.quick ? 2 : 20;
    const total = seconds * LATENCY_RATE;
    const latencies = new Float64Array(total).fill(Number.NaN);
    let received = 0;
    const sink = await startPushSink((fields) => {
      const seq = fields.seq ?? -1;
      if (seq >= 0 && seq < total && Number.isNaN(latencies[seq])) {
        latencies[seq] = performance.now() - (fields.t ?? Number.NaN);
        received++;
      }
    });
    await create(topic, topic, { url: sink.url });
    return {
      measure: () => measureLatency(session, topic, latencies, () => received, sink),
      async close() {
        await sink.close();
        await session.close();
      },
    };
  },
};

async function measureLatency(
  session: SubjectSession,
  topic: string,
  latencies: Float64Array,
  received: () => number,
  sink: PushSink,
): Promise<Measurement> {
  const total = latencies.length;
  const started = performance.now();
  let next = 0;
  let errors = 0;
  const pending: Promise<void>[] = [];
  while (next < total && performance.now() < started + (total / LATENCY_RATE) * 2000) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * LATENCY_RATE) / 1000));
    for (; next < due; next++)
      pending.push(
        session.publish(topic, { seq: next, t: performance.now() }).catch(() => void errors++),
      );
    await delay(1);
  }
  await Promise.all(pending);
  const elapsedMs = performance.now() - started;
  await until(() => received() >= next - errors, SETTLE_MS);
  const warmup = LATENCY_RATE / 2;
  const counted = latencies
    .slice(warmup)
    .filter((v) => !Number.isNaN(v))
    .sort();
  if (counted.length === 0) throw new Error("no event reached the sink");
  return {
    value: percentileOfSorted(counted, 99),
    details: {
      p50: percentileOfSorted(counted, 50),
      p99: percentileOfSorted(counted, 99),
      p999: percentileOfSorted(counted, 99.9),
      max: counted[counted.length - 1] ?? Number.NaN,
      rate: perSecond(next - errors, elapsedMs),
      measured: counted.length,
      missing: total - warmup - counted.length,
      requests: sink.requests(),
      publishErrors: errors,
    },
  };
}
