/** Batched publish throughput, on an empty log and on a log already holding 10M events. */
import { watchCpu } from "../cpu.ts";
import { windowed } from "../load.ts";
import { perSecond } from "../stats.ts";
import type { SubjectSession } from "../subjects/subject.ts";
import {
  type Measurement,
  type Scenario,
  type ScenarioContext,
  sized,
  type Trial,
} from "./scenario.ts";

/** Publishes not yet answered: enough for the client to keep sending full batches. */
const PUBLISH_WINDOW = 5_000;
const PUBLISH_MAX_MS = 120_000;

let topics = 0;
const uniqueTopic = (prefix: string): string => `${prefix}-${process.pid}-${++topics}`;

/** Publishes `count` events through the client's batching path (after a short warm-up). */
export async function measurePublish(
  session: SubjectSession,
  topic: string,
  count: number,
  warmup: number,
): Promise<Measurement> {
  await windowed(warmup, PUBLISH_WINDOW, PUBLISH_MAX_MS, (i) => session.publish(topic, { seq: i }));
  const cpu = watchCpu(session);
  const result = await windowed(count, PUBLISH_WINDOW, PUBLISH_MAX_MS, (i) =>
    session.publish(topic, { seq: i }),
  );
  const used = cpu(result.done);
  if (result.errors > 0)
    throw new Error(`${result.errors} publishes failed; first: ${result.firstError}`);
  return {
    value: perSecond(result.done, result.elapsedMs),
    details: { events: result.done, seconds: result.elapsedMs / 1000, ...used },
  };
}

const counts = (context: ScenarioContext) => ({
  events: sized(context, 500_000, 20_000),
  warmup: sized(context, 20_000, 2_000),
});

export const publishBatched: Scenario = {
  name: "publish-batched",
  title: "publish, SDK batched, 256 B",
  unit: "events/s",
  target: { op: ">=", value: 150_000 },
  setup: "per-run",
  async open(context: ScenarioContext): Promise<Trial> {
    const session = await context.subject.open();
    const topic = uniqueTopic("bench-publish");
    await session.createTopic(topic);
    const { events, warmup } = counts(context);
    return {
      measure: () => measurePublish(session, topic, events, warmup),
      close: () => session.close(),
    };
  },
};

export const publishLargeLog: Scenario = {
  name: "publish-10m",
  title: "publish, SDK batched, log holds 10M",
  unit: "events/s",
  target: { op: ">=", value: 0.9, relativeTo: "publish-batched" },
  setup: "shared",
  async open(context: ScenarioContext): Promise<Trial> {
    const preloadCount = context.quick ? 100_000 : 10_000_000;
    const session = await context.subject.open();
    const topic = uniqueTopic("bench-large");
    await session.createTopic(topic);
    const started = performance.now();
    let reported = 0;
    await session.preload(topic, preloadCount, (loaded) => {
      if (loaded - reported < preloadCount / 10 && loaded < preloadCount) return;
      reported = loaded;
      const seconds = (performance.now() - started) / 1000;
      context.log(`  preloaded ${loaded.toLocaleString("en-US")} in ${seconds.toFixed(1)} s`);
    });
    const preloadMs = performance.now() - started;
    const { events, warmup } = counts(context);
    return {
      async measure() {
        const measurement = await measurePublish(session, topic, events, warmup);
        const details = {
          ...measurement.details,
          preloaded: preloadCount,
          preloadSeconds: preloadMs / 1000,
          preloadRate: perSecond(preloadCount, preloadMs),
        };
        return { value: measurement.value, details };
      },
      close: () => session.close(),
    };
  },
};
