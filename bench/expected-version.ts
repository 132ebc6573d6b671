/**
 * Append with `expectedVersion` against a plain append, over HTTP on one router: `--writers`
 * aggregates (one subject each) append `--events` events each, one request at a time per
 * writer, as an aggregate's `handle` does. Plain appends carry the same subjects on the same
 * kind of topic (indexed by subject), so the difference is the compare-and-set alone; a third
 * run on a topic without the index shows what the index costs a single-event publish.
 * Prints events/s and request latency (p50/p99), three rounds.
 * Run: npm run build && node bench/expected-version.ts [--writers 16] [--events 200] [--nats URL]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRouter } from "../dist/index.js";
import { benchArgs } from "./args.ts";

const values = benchArgs("bench/expected-version.ts", {
  writers: { type: "string", default: "16" },
  events: { type: "string", default: "250" },
  // A running nats-server with JetStream: the router then uses the NATS engine.
  nats: { type: "string", default: "" },
});
const writers = Number(values.writers);
const perWriter = Number(values.events);

type Mode = "expectedVersion" | "plain" | "plain, unindexed";

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function publish(url: string, topic: string, body: string, expected: number | null) {
  const query = expected === null ? "" : `?expectedVersion=${expected}`;
  const res = await fetch(`${url}/v1/topics/${topic}/events${query}`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body,
  });
  await res.text();
  if (res.status !== 201) throw new Error(`publish answered ${res.status}`);
}

// Raw HTTP, one event per request in every mode: the SDK batches plain publishes of the
// writers together (four requests in flight per topic) and sends conditional ones alone,
// which would measure the batcher rather than the append.
async function run(url: string, mode: Mode, round: number) {
  const topic = `ev-bench-${mode.replace(/\W+/g, "-")}-${round}`;
  const config = mode === "plain, unindexed" ? {} : { indexes: ["subject"] };
  await fetch(`${url}/v1/topics/${topic}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(config),
  });
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const subject = `order-${round}-${w}`;
      for (let v = 0; v < perWriter; v++) {
        const body = JSON.stringify({
          specversion: "1.0",
          id: `${subject}-${v}`,
          source: "/bench",
          type: "bench.order.changed",
          subject,
          data: { v },
        });
        const at = performance.now();
        await publish(url, topic, body, mode === "expectedVersion" ? v : null);
        latencies.push(performance.now() - at);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    mode,
    eventsPerSecond: Math.round((writers * perWriter) / seconds),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
  };
}

const dataDir = mkdtempSync(join(tmpdir(), "sy-ev-bench-"));
// The embedded engine, fsync always (the default), or NATS with `--nats URL`.
const nats =
  values.nats === ""
    ? {}
    : {
        engine: "nats" as const,
        nats: { url: values.nats, prefix: `EVB${process.pid}` },
        secretKeys: `k1:${randomBytes(32).toString("base64")}`,
      };
const router = await startRouter({ port: 0, logLevel: "silent", dataDir, ...nats });
try {
  const modes: Mode[] = ["plain, unindexed", "plain", "expectedVersion"];
  for (let round = 0; round < 3; round++)
    for (const mode of modes) console.log(JSON.stringify(await run(router.url, mode, round)));
} finally {
  await router.close();
  rmSync(dataDir, { recursive: true, force: true });
}
