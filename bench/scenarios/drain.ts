/** Consumer throughput: one SDK subscriber drains a pre-loaded backlog, acking every event. */
import { watchCpu } from "../cpu.ts";
import { until } from "../load.ts";
import { perSecond } from "../stats.ts";
import type { SubjectSession } from "../subjects/subject.ts";
import {
  type Measurement,
  type Scenario,
  type ScenarioContext,
  sized,
  type Trial,
} from "./scenario.ts";

const CONCURRENCY = 1_000;
const DRAIN_MAX_MS = 300_000;

export const drain: Scenario = {
  name: "drain",
  title: "consumer drain of a 1M backlog",
  unit: "events/s",
  target: { op: ">=", value: 100_000 },
  // One backlog, drained by a fresh subscription (starting at the first event) each run.
  setup: "shared",
  async open(context: ScenarioContext): Promise<Trial> {
    const session = await context.subject.open();
    const topic = `bench-drain-${process.pid}-${Date.now()}`;
    const count = sized(context, 1_000_000, 20_000);
    await session.createTopic(topic);
    const started = performance.now();
    await session.preload(topic, count);
    const preloadMs = performance.now() - started;
    context.log(
      `  preloaded ${count.toLocaleString("en-US")} in ${(preloadMs / 1000).toFixed(1)} s`,
    );
    let runs = 0;
    return {
      async measure() {
        const subscription = `${topic}-${++runs}`;
        await session.createSubscription(topic, subscription);
        const measurement = await measureDrain(session, subscription, count);
        return {
          ...measurement,
          details: { ...measurement.details, preloadSeconds: preloadMs / 1000 },
        };
      },
      close: () => session.close(),
    };
  },
};

async function measureDrain(
  session: SubjectSession,
  subscription: string,
  count: number,
): Promise<Measurement> {
  const seen = new Uint8Array(count);
  let distinct = 0;
  let deliveries = 0;
  const started = performance.now();
  const cpu = watchCpu(session);
  const subscriber = await session.subscribe(subscription, CONCURRENCY, (fields) => {
    deliveries++;
    const seq = fields.seq ?? -1;
    if (seq >= 0 && seq < count && seen[seq] === 0) {
      seen[seq] = 1;
      distinct++;
    }
  });
  try {
    const complete = await until(() => distinct >= count, DRAIN_MAX_MS, 5);
    const elapsedMs = performance.now() - started;
    const used = cpu(distinct);
    if (!complete) throw new Error(`drained ${distinct}/${count} events in ${DRAIN_MAX_MS} ms`);
    return {
      value: perSecond(distinct, elapsedMs),
      details: {
        events: distinct,
        seconds: elapsedMs / 1000,
        redeliveries: deliveries - distinct,
        ...used,
      },
    };
  } finally {
    await subscriber.close();
  }
}
