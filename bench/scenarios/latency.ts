/**
 * End-to-end latency at a fixed rate: the time from the SDK `publish()` call (its linger
 * included) to the subscriber's handler running, both in this process, so one clock.
 */
import { type CpuSample, watchCpu } from "../cpu.ts";
import { delay, until } from "../load.ts";
import { percentileOfSorted, perSecond } from "../stats.ts";
import type { Closable, SubjectSession } from "../subjects/subject.ts";
import {
  type Measurement,
  type Scenario,
  type ScenarioContext,
  sized,
  type Trial,
} from "./scenario.ts";

const RATE = 5_000;
const CONCURRENCY = 64;
/** How long after the last publish the stragglers may take to arrive. */
const SETTLE_MS = 10_000;

interface Plan {
  readonly seconds: number;
  /** Events of the first `warmupSeconds` are published but not counted. */
  readonly warmupSeconds: number;
}

export const latency: Scenario = {
  name: "latency",
  title: "end-to-end latency at 5,000 events/s",
  unit: "ms p99",
  target: { op: "<=", value: 10 },
  setup: "per-run",
  async open(context: ScenarioContext): Promise<Trial> {
    const session = await context.subject.open();
    const name = `bench-latency-${process.pid}-${Date.now()}`;
    await session.createTopic(name);
    await session.createSubscription(name, name);
    const plan = {
      seconds: sized(context, 22, 2),
      warmupSeconds: sized(context, 2, 0.5),
    };
    return {
      measure: () => measureLatency(session, name, plan),
      close: () => session.close(),
    };
  },
};

async function measureLatency(
  session: SubjectSession,
  name: string,
  plan: Plan,
): Promise<Measurement> {
  const total = Math.round(plan.seconds * RATE);
  const latencies = new Float64Array(total).fill(Number.NaN);
  let received = 0;
  const subscriber: Closable = await session.subscribe(name, CONCURRENCY, (fields) => {
    const seq = fields.seq ?? -1;
    const sentAt = fields.t ?? Number.NaN;
    if (seq >= 0 && seq < total && Number.isNaN(latencies[seq])) {
      latencies[seq] = performance.now() - sentAt;
      received++;
    }
  });
  try {
    const cpu = watchCpu(session);
    const sent = await publishAtRate(session, name, total);
    const used = cpu(sent.ok);
    await until(() => received >= sent.ok, SETTLE_MS);
    return summarise(latencies, Math.round(plan.warmupSeconds * RATE), sent, used);
  } finally {
    await subscriber.close();
  }
}

interface Sent {
  readonly ok: number;
  readonly errors: number;
  readonly elapsedMs: number;
}

/** Publishes `total` events at `RATE`, catching up after each timer tick; bounded in time. */
async function publishAtRate(session: SubjectSession, topic: string, total: number): Promise<Sent> {
  const started = performance.now();
  const deadline = started + (total / RATE) * 1000 * 2;
  let next = 0;
  let ok = 0;
  let errors = 0;
  const pending: Promise<void>[] = [];
  while (next < total && performance.now() < deadline) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * RATE) / 1000));
    for (; next < due; next++) {
      const publish = session.publish(topic, { seq: next, t: performance.now() });
      pending.push(
        publish.then(
          () => void ok++,
          () => void errors++,
        ),
      );
    }
    await delay(1);
  }
  await Promise.all(pending);
  return { ok, errors, elapsedMs: performance.now() - started };
}

function summarise(
  latencies: Float64Array,
  warmup: number,
  sent: Sent,
  used: CpuSample,
): Measurement {
  const counted = latencies
    .slice(warmup)
    .filter((value) => !Number.isNaN(value))
    .sort();
  const expected = latencies.length - warmup;
  if (counted.length === 0) throw new Error("no event reached the subscriber");
  return {
    value: percentileOfSorted(counted, 99),
    details: {
      p50: percentileOfSorted(counted, 50),
      p99: percentileOfSorted(counted, 99),
      p999: percentileOfSorted(counted, 99.9),
      max: counted[counted.length - 1] ?? Number.NaN,
      rate: perSecond(sent.ok, sent.elapsedMs),
      measured: counted.length,
      missing: expected - counted.length,
      publishErrors: sent.errors,
      ...used,
    },
  };
}
