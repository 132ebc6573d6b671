/**
 * Scheduled-event timing (issue 13, item 6): `--n` events published with `deliverat` spread
 * evenly over `--span` seconds (starting `--lead` seconds ahead), fired by the broker's
 * scheduler on the real clock; reports p50/p99/max of |appended − deliverat| (the append
 * time the engine stamps on the stored event). In process, no HTTP: it measures the
 * scheduler and the engine, not the network.
 *
 *   node bench/scheduled.ts                       # short form: 10,000 over 60 s
 *   node bench/scheduled.ts --span 600            # the form: 10,000 over 10 minutes
 *   node bench/scheduled.ts --engine nats --n 500 # the Catalog-backed store (see docs)
 */
import "../test/support/ts-resolve.ts";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Engine } from "../src/engine/engine.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs("bench/scheduled.ts", {
  engine: { type: "string", default: "sqlite" },
  n: { type: "string", default: "10000" },
  span: { type: "string", default: process.env.SWITCHYARD_SCHEDULED_LONG === "1" ? "600" : "60" },
  lead: { type: "string", default: "5" },
});
const N = Number(args.n);
const SPAN_MS = Number(args.span) * 1000;
const LEAD_MS = Number(args.lead) * 1000;
const BATCH = 1_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function openEngine(): Promise<{ engine: Engine; close(): Promise<void> }> {
  if (args.engine === "nats") {
    const { startNatsServer } = await import("../test/support/nats-server.ts");
    const { NatsEngine } = await import("../src/engine/nats/index.ts");
    const nats = await startNatsServer();
    const engine = await NatsEngine.open({
      servers: nats.url,
      prefix: `SB${randomBytes(3).toString("hex")}`,
    });
    return {
      engine,
      async close() {
        await engine.close();
        await nats.close();
      },
    };
  }
  const { openSqliteEngine } = await import("../src/engine/sqlite/index.ts");
  const dir = mkdtempSync(join(tmpdir(), "sy-bench-scheduled-"));
  const engine = await openSqliteEngine({ dir });
  return {
    engine,
    async close() {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const { Broker } = await import("../src/broker/broker.ts");
const { SecretKeyRing } = await import("../src/core/secret-box.ts");
const { engine, close } = await openEngine();
const broker = new Broker({ engine, secretKeys: SecretKeyRing.generate() });
await broker.startScheduler();
const topic = "bench-scheduled";
await broker.putTopic(topic, {});

const start = Date.now() + LEAD_MS;
const dueOf = (i: number) => start + Math.floor((i * SPAN_MS) / N);
const publishStarted = Date.now();
for (let from = 0; from < N; from += BATCH) {
  const events = [];
  for (let i = from; i < Math.min(N, from + BATCH); i++)
    events.push({
      specversion: "1.0",
      id: `s${i}`,
      source: "/bench",
      type: "bench.scheduled",
      deliverat: new Date(dueOf(i)).toISOString(),
      data: { i },
    });
  await broker.publish(topic, events, true);
}
const publishMs = Date.now() - publishStarted;
if (Date.now() > start)
  console.warn("warning: publishing took longer than --lead; early events fire late");
console.log(`scheduled ${N} events in ${publishMs} ms; due from +${LEAD_MS} ms over ${SPAN_MS} ms`);

// A control: how late this process's own timers ran meanwhile (a busy machine delays both).
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const lateness: number[] = [];
let from = 1;
const deadline = start + SPAN_MS + 30_000;
while (lateness.length < N && Date.now() < deadline) {
  const page = await broker.read(topic, { offset: from }, 1_000);
  for (const record of page.records) {
    const event = JSON.parse(record.body) as { deliverat: string };
    lateness.push(Math.abs(record.appendedAt - Date.parse(event.deliverat)));
  }
  from = page.next;
  if (page.records.length === 0) await new Promise((resolve) => setTimeout(resolve, 250));
}
loopDelay.disable();
const sorted = [...lateness].sort((a, b) => a - b);
const lagMs = (ns: number) => Math.round(ns / 1e6);
console.log(
  `engine=${args.engine} fired=${sorted.length}/${N} |fired - deliverat| p50=${percentile(sorted, 50)} ms p99=${percentile(sorted, 99)} ms max=${sorted.at(-1) ?? 0} ms; event-loop delay p99=${lagMs(loopDelay.percentile(99))} ms max=${lagMs(loopDelay.max)} ms`,
);
await broker.close();
await close();
if (sorted.length < N)
  console.error(
    `error: only ${sorted.length} of ${N} scheduled events fired within 30 s of the last one's time`,
  );
process.exit(sorted.length === N ? 0 : 1);
