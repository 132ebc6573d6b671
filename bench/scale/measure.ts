/**
 * The figures `bench:scale` takes of a running router (a child process): router CPU per
 * published event and per delivery, and its resident memory. Every loop is bounded by a
 * count and a time limit.
 */
import { readFileSync } from "node:fs";
import type { SwitchyardClient } from "../../src/client/index.ts";
import { processCpuMs, runQueueWaitMs, watchCpu } from "../cpu.ts";
import { until, windowed } from "../load.ts";
import { cloudEventData, EVENT_TYPE } from "../payload.ts";
import { perSecond } from "../stats.ts";

const PUBLISH_WINDOW = 5_000;
const MAX_MS = 180_000;

export interface Cost {
  /** Router CPU µs per event (publish) or per delivery (lease). */
  readonly cpuUs: number;
  readonly perSecond: number;
  readonly count: number;
  /** Share of wall time the router waited for a CPU (high: a noisy figure). */
  readonly starvedPercent: number;
}

const probe = (pid: number) => ({
  cpuMs: () => processCpuMs(pid),
  runQueueWaitMs: () => runQueueWaitMs(pid),
});

/** `count` SDK-batched publishes after `warmup` uncounted ones (JIT, connections). */
export async function publishCost(
  client: SwitchyardClient,
  pid: number,
  topic: string,
  count: number,
  warmup: number,
): Promise<Cost> {
  const publish = (seq: number) =>
    client.publish(topic, { type: EVENT_TYPE, data: cloudEventData({ seq }) }).then(() => {});
  await windowed(warmup, PUBLISH_WINDOW, MAX_MS, publish);
  const cpu = watchCpu(probe(pid));
  const result = await windowed(count, PUBLISH_WINDOW, MAX_MS, (i) => publish(warmup + i));
  const used = cpu(result.done);
  if (result.errors > 0 || result.done < count)
    throw new Error(`published ${result.done}/${count}: ${result.firstError ?? "time limit"}`);
  return {
    cpuUs: used.systemCpuUsPerEvent,
    perSecond: perSecond(result.done, result.elapsedMs),
    count,
    starvedPercent: used.systemStarvedPercent,
  };
}

/**
 * Consumes `subscriptions` (each holding `perSubscription` events) with one SDK subscriber
 * each until every one has had all of them; the cost is per delivery.
 */
export async function leaseCost(
  client: SwitchyardClient,
  pid: number,
  subscriptions: readonly string[],
  perSubscription: number,
  concurrency: number,
): Promise<Cost> {
  let delivered = 0;
  const expected = subscriptions.length * perSubscription;
  const started = performance.now();
  const cpu = watchCpu(probe(pid));
  const subscribers = subscriptions.map((name) =>
    client.subscribe(name, () => void delivered++, { concurrency }),
  );
  try {
    await Promise.all(subscribers.map((s) => s.ready));
    const complete = await until(() => delivered >= expected, MAX_MS, 5);
    const elapsedMs = performance.now() - started;
    const used = cpu(delivered);
    if (!complete) throw new Error(`delivered ${delivered}/${expected} in ${MAX_MS} ms`);
    return {
      cpuUs: used.systemCpuUsPerEvent,
      perSecond: perSecond(delivered, elapsedMs),
      count: delivered,
      starvedPercent: used.systemStarvedPercent,
    };
  } finally {
    await Promise.all(subscribers.map((s) => s.close({ timeoutMs: 5_000 })));
  }
}

/** Resident memory of `pid` in MiB (`VmRSS`). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib) / 1024;
}
