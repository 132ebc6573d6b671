/**
 * Fan-out: one topic, 10 subscriptions each consumed by its own subscriber; events are
 * published while all 10 consume, and the figure is deliveries (events × subscriptions)
 * per second until every subscription has every event.
 */
import { watchCpu } from "../cpu.ts";
import { until, windowed } from "../load.ts";
import { perSecond } from "../stats.ts";
import type { Closable, SubjectSession } from "../subjects/subject.ts";
import {
  type Measurement,
  type Scenario,
  type ScenarioContext,
  sized,
  type Trial,
} from "./scenario.ts";

const SUBSCRIPTIONS = 10;
const CONCURRENCY = 200;
const PUBLISH_WINDOW = 5_000;
const MAX_MS = 120_000;

export const fanout: Scenario = {
  name: "fanout",
  title: "fan-out to 10 subscriptions",
  unit: "deliveries/s",
  target: { op: ">=", value: 100_000 },
  setup: "per-run",
  async open(context: ScenarioContext): Promise<Trial> {
    const session = await context.subject.open();
    const topic = `bench-fanout-${process.pid}-${Date.now()}`;
    await session.createTopic(topic);
    const subscriptions = Array.from({ length: SUBSCRIPTIONS }, (_, i) => `${topic}-s${i}`);
    for (const subscription of subscriptions) await session.createSubscription(topic, subscription);
    const count = sized(context, 100_000, 2_000);
    return {
      measure: () => measureFanout(session, topic, subscriptions, count),
      close: () => session.close(),
    };
  },
};

async function measureFanout(
  session: SubjectSession,
  topic: string,
  subscriptions: readonly string[],
  count: number,
): Promise<Measurement> {
  // One bit per (subscription, event): redeliveries are not counted twice.
  const seen = subscriptions.map(() => new Uint8Array(count));
  let distinct = 0;
  const subscribers: Closable[] = [];
  try {
    for (const [index, subscription] of subscriptions.entries()) {
      const mine = seen[index] ?? new Uint8Array(count);
      subscribers.push(
        await session.subscribe(subscription, CONCURRENCY, (fields) => {
          const seq = fields.seq ?? -1;
          if (seq >= 0 && seq < count && mine[seq] === 0) {
            mine[seq] = 1;
            distinct++;
          }
        }),
      );
    }
    const expected = count * subscriptions.length;
    const started = performance.now();
    const cpu = watchCpu(session);
    const published = await windowed(count, PUBLISH_WINDOW, MAX_MS, (i) =>
      session.publish(topic, { seq: i }),
    );
    if (published.errors > 0)
      throw new Error(`${published.errors} publishes failed; first: ${published.firstError}`);
    const complete = await until(() => distinct >= expected, MAX_MS, 5);
    const elapsedMs = performance.now() - started;
    const used = cpu(distinct);
    if (!complete) throw new Error(`delivered ${distinct}/${expected} in ${MAX_MS} ms`);
    return {
      value: perSecond(distinct, elapsedMs),
      details: {
        events: count,
        subscriptions: subscriptions.length,
        deliveries: distinct,
        seconds: elapsedMs / 1000,
        publishRate: perSecond(count, published.elapsedMs),
        ...used,
      },
    };
  } finally {
    await Promise.all(subscribers.map((subscriber) => subscriber.close()));
  }
}
