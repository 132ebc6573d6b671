/**
 * Raw-HTTP publishing without the SDK, and a bare Fastify route in the same run (issue 14):
 *
 * - `batch`: `--clients` keep-alive connections (default 4), each sending CloudEvents batches
 *   of `--batch` 256-byte events (default 500), one request in flight per connection.
 * - `single`: one structured event per request over 64 connections (like `publish-http`).
 * - `fastify`: the same single requests against a bare Fastify route in a child process
 *   (JSON body parsed, a small JSON answer): what one request costs without Switchyard.
 *
 * Reported per run: events (or requests) per second, and server CPU µs per event (or
 * request) from /proc, which moves far less with other load on a shared machine. Medians
 * of `--runs`. Needs `npm run build` (the router runs from dist/ through bin/).
 *
 *   node bench/publish-http-batch.ts [--runs 3] [--only batch,single,fastify]
 *                                   [--fsync always] [--events 300000] [--requests 100000]
 *                                   [--profile-dir DIR]   (a CPU profile of each router)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { startRouterProcess } from "../test/support/router-process.ts";
import { benchArgs } from "./args.ts";
import { processCpuMs, runQueueWaitMs } from "./cpu.ts";
import { windowed } from "./load.ts";
import { cloudEventData, EVENT_SOURCE, EVENT_TYPE } from "./payload.ts";

const args = benchArgs("bench/publish-http-batch.ts", {
  runs: { type: "string", default: "3" },
  only: { type: "string", default: "batch,single,fastify" },
  fsync: { type: "string", default: "always" },
  clients: { type: "string", default: "4" },
  batch: { type: "string", default: "500" },
  events: { type: "string", default: "300000" },
  requests: { type: "string", default: "100000" },
  "profile-dir": { type: "string" },
});
const RUNS = Number(args.runs);
const ONLY = new Set(String(args.only).split(","));
const FSYNC = args.fsync === "interval" ? "interval" : "always";
const CLIENTS = Number(args.clients);
const BATCH = Number(args.batch);
const EVENTS = Number(args.events);
const REQUESTS = Number(args.requests);
const CONNECTIONS = 64;
const MAX_MS = 120_000;

interface Sample {
  readonly rate: number;
  readonly cpuUs: number;
  readonly starved: number;
}

const DATA = JSON.stringify(cloudEventData({ seq: 0 }));
function eventJson(): string {
  return `{"specversion":"1.0","id":"${randomUUID()}","source":"${EVENT_SOURCE}","time":"${new Date().toISOString()}","type":"${EVENT_TYPE}","data":${DATA}}`;
}

function batchBody(): string {
  const parts: string[] = [];
  for (let i = 0; i < BATCH; i++) parts.push(eventJson());
  return `[${parts.join(",")}]`;
}

async function measure(
  pid: number | undefined,
  count: number,
  window: number,
  perTask: number,
  task: (i: number) => Promise<void>,
): Promise<Sample> {
  await windowed(Math.max(window * 4, Math.ceil(count / 20)), window, MAX_MS, task);
  const cpu0 = processCpuMs(pid);
  const wait0 = runQueueWaitMs(pid);
  const result = await windowed(count, window, MAX_MS, task);
  if (result.errors > 0) throw new Error(`${result.errors} failed; first: ${result.firstError}`);
  const units = result.done * perTask;
  const cpuMs = processCpuMs(pid) - cpu0;
  return {
    rate: (units / result.elapsedMs) * 1000,
    cpuUs: (cpuMs * 1000) / units,
    starved: ((runQueueWaitMs(pid) - wait0) / result.elapsedMs) * 100,
  };
}

async function post(pool: Pool, path: string, type: string, body: string, ok: number) {
  const response = await pool.request({
    method: "POST",
    path,
    headers: { "content-type": type },
    body,
  });
  const text = await response.body.text();
  if (response.statusCode !== ok)
    throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 200)}`);
}

async function routerRun(kind: "batch" | "single"): Promise<Sample> {
  const dataDir = await mkdtemp(join(tmpdir(), "switchyard-bench-"));
  const profileDir = args["profile-dir"];
  const router = await startRouterProcess({
    dataDir,
    fsync: FSYNC,
    nodeArgs: profileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir],
  });
  const topic = `bench-${kind}`;
  const connections = kind === "batch" ? CLIENTS : CONNECTIONS;
  const pool = new Pool(router.url, { connections, pipelining: 1 });
  try {
    const put = await fetch(`${router.url}/v1/topics/${topic}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    if (!put.ok) throw new Error(`creating the topic: HTTP ${put.status}`);
    const path = `/v1/topics/${topic}/events`;
    if (kind === "batch")
      return await measure(router.pid, Math.ceil(EVENTS / BATCH), CLIENTS, BATCH, () =>
        post(pool, path, "application/cloudevents-batch+json", batchBody(), 201),
      );
    return await measure(router.pid, REQUESTS, CONNECTIONS, 1, () =>
      post(pool, path, "application/cloudevents+json", eventJson(), 201),
    );
  } finally {
    await pool.close();
    await router.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A bare Fastify route: parse the JSON body, answer a small JSON object. */
const FASTIFY_SERVER = `
import Fastify from "fastify";
const app = Fastify({ logger: false });
app.addContentTypeParser("application/cloudevents+json", { parseAs: "string" }, (_req, body, done) => {
  try { done(null, JSON.parse(body)); } catch (error) { done(error); }
});
app.post("/events", async (request, reply) => {
  reply.code(201).header("content-type", "application/json");
  return JSON.stringify({ id: request.body.id, offset: 1, duplicate: false });
});
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(address + "\\n");
`;

async function fastifyRun(): Promise<Sample> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--input-type=module", "-e", FASTIFY_SERVER],
    {
      cwd: join(import.meta.dirname, ".."),
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  const url = line.toString().trim();
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  try {
    return await measure(child.pid, REQUESTS, CONNECTIONS, 1, () =>
      post(pool, "/events", "application/cloudevents+json", eventJson(), 201),
    );
  } finally {
    await pool.close();
    child.kill("SIGTERM");
    await once(child, "exit");
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

const kinds = (["batch", "single", "fastify"] as const).filter((k) => ONLY.has(k));
const samples = new Map<string, Sample[]>(kinds.map((k) => [k, []]));
for (let run = 1; run <= RUNS; run++) {
  // Alternating kinds within each run: the single/fastify ratio compares neighbours in time.
  for (const kind of kinds) {
    const sample = kind === "fastify" ? await fastifyRun() : await routerRun(kind);
    samples.get(kind)?.push(sample);
    console.log(
      `${kind} run ${run}: ${Math.round(sample.rate).toLocaleString("en-US")}/s, ${sample.cpuUs.toFixed(1)} µs CPU each, starved ${sample.starved.toFixed(0)}%`,
    );
  }
}
for (const kind of kinds) {
  const list = samples.get(kind) ?? [];
  console.log(
    `${kind} median: ${Math.round(median(list.map((s) => s.rate))).toLocaleString("en-US")}/s, ${median(list.map((s) => s.cpuUs)).toFixed(1)} µs CPU each`,
  );
}
const single = samples.get("single");
const fastify = samples.get("fastify");
if (single && fastify && single.length > 0) {
  const ratios = single.map((s, i) => s.rate / (fastify[i]?.rate ?? Number.NaN));
  console.log(
    `single / bare Fastify, per run: ${ratios.map((r) => r.toFixed(2)).join(" ")}; median ${median(ratios).toFixed(2)}`,
  );
}
