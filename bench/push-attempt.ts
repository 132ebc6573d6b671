/**
 * The router-side CPU of one push attempt without the engine: `attemptDelivery` (request
 * building, `webhook-id`, signing, the endpoint check) and the sender (undici keep-alive pool)
 * POSTing to a 204 sink in a child process, `--window` attempts in flight, timed with this
 * process's CPU clock. It separates the HTTP path's share of the `push` scenarios' router
 * µs/event from the lease and settle commits. Run after `npm run build`:
 *   node bench/push-attempt.ts [--signed] [--batch 100]
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { PushConfig } from "../src/core/config.ts";
import type { Delivery } from "../src/engine/engine.ts";
import { benchArgs, invalidOption } from "./args.ts";

const SCRIPT = "bench/push-attempt.ts";
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const load = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, "dist", path)).href)) as T;

const args = benchArgs(SCRIPT, {
  events: { type: "string", default: "60000" },
  batch: { type: "string", default: "1" },
  window: { type: "string", default: "256" },
  rounds: { type: "string", default: "3" },
  signed: { type: "boolean", default: false },
});
const positive = (name: string, raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) invalidOption(SCRIPT, `--${name} must be a positive integer`);
  return n;
};
const events = positive("events", args.events);
const batch = positive("batch", args.batch);
const window = positive("window", args.window);
const rounds = positive("rounds", args.rounds);

const { attemptDelivery } =
  await load<typeof import("../src/broker/push/attempt.ts")>("broker/push/attempt.js");
const { createPushSender } =
  await load<typeof import("../src/broker/push/sender.ts")>("broker/push/sender.js");
const { EndpointChecker } = await load<typeof import("../src/broker/push/endpoint-checker.ts")>(
  "broker/push/endpoint-checker.js",
);
const { systemClock } = await load<typeof import("../src/core/clock.ts")>("core/clock.js");
const { signingKeys } =
  await load<typeof import("../src/broker/push/signing.ts")>("broker/push/signing.js");

// The sink answers in its own process, so this process's CPU is the router's side alone.
const sinkCode = `import { startPushSink } from ${JSON.stringify(pathToFileURL(join(ROOT, "bench/push-sink.ts")).href)};
const sink = await startPushSink(() => {});
process.stdout.write(sink.url + "\\n");
process.stdin.resume();
process.stdin.on("end", () => sink.close().then(() => process.exit(0)));`;
const sinkProcess = spawn(process.execPath, ["--input-type=module", "-e", sinkCode], {
  stdio: ["pipe", "pipe", "inherit"],
});
const [firstLine] = (await once(sinkProcess.stdout, "data")) as [Buffer];
const url = firstLine.toString().trim();

const push: PushConfig = {
  url,
  mode: "binary",
  headers: {},
  secrets: args.signed ? [`whsec_${Buffer.alloc(32, 7).toString("base64")}`] : [],
  timeoutMs: 10_000,
  batch: batch > 1 ? { maxEvents: batch, maxBytes: 1 << 20, lingerMs: 0 } : null,
};
const target = { subscription: "bench-push-attempt", push, keys: signingKeys(push.secrets) };
const sender = createPushSender();
const context = {
  sender,
  endpoints: new EndpointChecker({ allowPrivateEndpoints: true }, systemClock),
  now: () => systemClock.now(),
  signal: new AbortController().signal,
};

function delivery(offset: number): Delivery {
  const body = JSON.stringify({
    specversion: "1.0",
    id: `0193a1b2-c3d4-7e5f-8a9b-${String(offset).padStart(12, "0")}`,
    source: "/bench",
    type: "bench.event",
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    data: { seq: offset, pad: "x".repeat(64) },
  });
  return {
    ackId: `bench-${offset}`,
    attempt: 1,
    record: { topic: "bench", offset, appendedAt: Date.now(), key: null, body },
  };
}

async function round(): Promise<{ perSecond: number; cpuUs: number }> {
  // Built before the clock starts: the leased deliveries are the engine's work, not the attempt's.
  const deliveries = Array.from({ length: events }, (_, i) => delivery(i + 1));
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < events) {
      const chunk = deliveries.slice(next, Math.min(events, next + batch));
      next += chunk.length;
      const { outcome } = await attemptDelivery(context, target, chunk);
      if (outcome.kind !== "response" || outcome.status !== 204)
        throw new Error(`the sink answered ${JSON.stringify(outcome)}`);
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: window }, lane));
  const used = process.cpuUsage(cpu);
  return {
    perSecond: (events / (performance.now() - started)) * 1000,
    cpuUs: (used.user + used.system) / events,
  };
}

try {
  for (let r = 1; r <= rounds; r++) {
    const { perSecond, cpuUs } = await round();
    process.stdout.write(
      `round ${r}: ${cpuUs.toFixed(1)} µs CPU per event, ${Math.round(perSecond)} events/s ` +
        `(batch ${batch}, ${args.signed ? "signed" : "unsigned"}, ${window} in flight)\n`,
    );
  }
} finally {
  await sender.close();
  sinkProcess.stdin.end();
}
