/** One HTTP request per event, structured mode, 64 keep-alive connections. */
import { watchCpu } from "../cpu.ts";
import { windowed } from "../load.ts";
import { perSecond } from "../stats.ts";
import { type Scenario, type ScenarioContext, sized, type Trial } from "./scenario.ts";

const CONNECTIONS = 64;
const MAX_MS = 120_000;

export const publishHttp: Scenario = {
  name: "publish-http",
  title: "publish, 1 HTTP request/event, 64 conns",
  unit: "req/s",
  target: { op: ">=", value: 20_000 },
  setup: "per-run",
  async open(context: ScenarioContext): Promise<Trial> {
    const session = await context.subject.open();
    const topic = `bench-http-${process.pid}-${Date.now()}`;
    await session.createTopic(topic);
    const publisher = session.singlePublisher(CONNECTIONS);
    const count = sized(context, 200_000, 5_000);
    const warmup = sized(context, 10_000, 1_000);
    return {
      async measure() {
        const publish = (i: number) => publisher.publishOne(topic, { seq: i });
        await windowed(warmup, CONNECTIONS, MAX_MS, publish);
        const cpu = watchCpu(session);
        const result = await windowed(count, CONNECTIONS, MAX_MS, publish);
        const used = cpu(result.done);
        if (result.errors > 0)
          throw new Error(`${result.errors} requests failed; first: ${result.firstError}`);
        return {
          value: perSecond(result.done, result.elapsedMs),
          details: { requests: result.done, seconds: result.elapsedMs / 1000, ...used },
        };
      },
      async close() {
        await publisher.close();
        await session.close();
      },
    };
  },
};
