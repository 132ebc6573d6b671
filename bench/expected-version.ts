/**
 * Append with `expectedVersion` against a plain append, over HTTP on one router: `--writers`
 * aggregates (one subject each) append `--events` events each, one request at a time per
 * writer, as an aggregate's `handle` does. Plain appends carry the same subjects on the same
 * kind of topic (indexed by subject), so the difference is the compare-and-set alone; a third
 * run on a topic without the index shows what the index costs a single-event publish.
 * Prints events/s and request latency (p50/p99). Run: npm run build && node bench/expected-version.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "../dist/client/index.js";
import { startRouter } from "../dist/index.js";

const { values } = parseArgs({
  options: {
    writers: { type: "string", default: "16" },
    events: { type: "string", default: "250" },
  },
});
const writers = Number(values.writers);
const perWriter = Number(values.events);

type Mode = "expectedVersion" | "plain" | "plain, unindexed";

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function run(url: string, mode: Mode, round: number) {
  const client = createClient({ url, batch: { lingerMs: 0 } });
  const topic = `ev-bench-${mode.replace(/\W+/g, "-")}-${round}`;
  await client.admin.topics.put(topic, mode === "plain, unindexed" ? {} : { indexes: ["subject"] });
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const subject = `order-${round}-${w}`;
      for (let v = 0; v < perWriter; v++) {
        const at = performance.now();
        const event = { type: "bench.order.changed", subject, data: { v } };
        if (mode === "expectedVersion") await client.publish(topic, event, { expectedVersion: v });
        else await client.publish(topic, event);
        latencies.push(performance.now() - at);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  latencies.sort((a, b) => a - b);
  return {
    mode,
    eventsPerSecond: Math.round((writers * perWriter) / seconds),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
  };
}

const dataDir = mkdtempSync(join(tmpdir(), "sy-ev-bench-"));
// The embedded engine, fsync always (the default): the shape of a single-node deployment.
const router = await startRouter({ port: 0, logLevel: "silent", dataDir });
try {
  const modes: Mode[] = ["plain, unindexed", "plain", "expectedVersion"];
  for (let round = 0; round < 3; round++)
    for (const mode of modes) console.log(JSON.stringify(await run(router.url, mode, round)));
} finally {
  await router.close();
  rmSync(dataDir, { recursive: true, force: true });
}
