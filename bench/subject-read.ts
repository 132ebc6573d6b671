/**
 * Latency of reading a subject's stream by version on a long stream: one router over HTTP,
 * one subject per size in `--sizes` preloaded with that many events (another subject's
 * events interleaved, one for one, so the ledger is not the only thing in its stream), then
 * `--reads` timed reads of the last event (`fromVersion` = the version, `limit` 1) and of a
 * page of 100 from the middle, `--runs` times. Prints a table and a JSON line: per size, the
 * median of the runs' median latencies, and each run's.
 * Run: npm run bench:subject-read -- [--sizes 1000,5000,10000] [--reads 30] [--runs 3]
 *        [--nats URL | --sqlite]
 * Without `--nats` or `--sqlite` it starts a nats-server of its own (loopback, temp store).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "../dist/client/index.js";
import { startRouter } from "../dist/index.js";
import { type NatsServers, startNatsServer } from "../test/support/nats-server.ts";
import { benchArgs } from "./args.ts";

const values = benchArgs("bench/subject-read.ts", {
  sizes: { type: "string", default: "1000,5000,10000" },
  reads: { type: "string", default: "30" },
  runs: { type: "string", default: "3" },
  nats: { type: "string", default: "" },
  sqlite: { type: "boolean", default: false },
});
const SIZES = values.sizes.split(",").map(Number);
const READS = Number(values.reads);
const RUNS = Number(values.runs);
const PRELOAD_BATCH = 1_000;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const dataDir = mkdtempSync(join(tmpdir(), "sy-subject-read-bench-"));
let server: NatsServers | undefined;
if (!values.sqlite && values.nats === "") server = await startNatsServer();
const natsUrl = values.nats === "" ? server?.url : values.nats;
const nats =
  natsUrl === undefined
    ? {}
    : {
        engine: "nats" as const,
        nats: { url: natsUrl, prefix: `SRB${process.pid}` },
        secretKeys: `k1:${randomBytes(32).toString("base64")}`,
      };
const router = await startRouter({ port: 0, logLevel: "silent", dataDir, ...nats });
const client = createClient({ url: router.url });
const topic = `subject-read-bench-${process.pid}`;

async function preload(subject: string, events: number): Promise<void> {
  for (let sent = 0; sent < events; sent += PRELOAD_BATCH) {
    const count = Math.min(PRELOAD_BATCH, events - sent);
    await client.publish(
      topic,
      Array.from({ length: count * 2 }, (_, i) => ({
        type: "bench.happened",
        subject: i % 2 === 0 ? subject : `${subject}-noise`,
        data: { i },
      })),
    );
  }
}

async function timed(read: () => Promise<number>, expected: number): Promise<number[]> {
  const runMedians: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const latencies: number[] = [];
    for (let i = 0; i < READS; i++) {
      const at = performance.now();
      const got = await read();
      latencies.push(performance.now() - at);
      if (got !== expected) throw new Error(`read ${got} events, expected ${expected}`);
    }
    runMedians.push(Number(median(latencies).toFixed(2)));
  }
  return runMedians;
}

try {
  await client.admin.topics.put(topic, { indexes: ["subject"] });
  const results = [];
  for (const size of SIZES) {
    const subject = `entity-${size}`;
    await preload(subject, size);
    const last = await timed(
      async () =>
        (await client.readSubject(topic, subject, { fromVersion: size, limit: 1 })).events.length,
      1,
    );
    const middle = await timed(
      async () =>
        (
          await client.readSubject(topic, subject, {
            fromVersion: Math.floor(size / 2),
            limit: 100,
          })
        ).events.length,
      100,
    );
    results.push({
      events: size,
      lastMs: median(last),
      lastRuns: last,
      middle100Ms: median(middle),
      middle100Runs: middle,
    });
  }
  const engine = natsUrl === undefined ? "SQLite (fsync always)" : "NATS";
  console.log(`\nreadSubject on ${engine}, ${RUNS} runs of ${READS} reads (median of run medians)`);
  console.log("| events in the subject | last event (limit 1) | 100 from the middle |");
  console.log("| --- | --- | --- |");
  for (const r of results)
    console.log(
      `| ${r.events} | ${r.lastMs.toFixed(2)} ms (${r.lastRuns.join(" / ")}) | ${r.middle100Ms.toFixed(2)} ms (${r.middle100Runs.join(" / ")}) |`,
    );
  console.log(JSON.stringify({ bench: "subject-read", engine, reads: READS, runs: RUNS, results }));
} finally {
  await client.close();
  await router.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
}
