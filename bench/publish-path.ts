/**
 * The router's publish path in one process, without HTTP: JSON.parse of the request body →
 * `prepareEvents` (validate, complete, serialise) → `engine.log.append` on a real SQLite
 * store → the answer's JSON. `batch`: 4 requests of 500 events in flight; `single`: 64
 * requests of one event. Reports CPU µs per event (what moves least on a shared machine)
 * and events/s, median of `--runs`.
 *
 *   node bench/publish-path.ts [--runs 3] [--fsync always|interval]
 */
import "../test/support/ts-resolve.ts";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TopicConfig } from "../src/core/config.ts";
import { benchArgs } from "./args.ts";

const { systemClock } = await import("../src/core/clock.ts");

const { openSqliteEngine } = await import("../src/engine/sqlite/index.ts");
const { prepareEvents } = await import("../src/broker/publish.ts");

const args = benchArgs("bench/publish-path.ts", {
  runs: { type: "string", default: "3" },
  fsync: { type: "string", default: "always" },
});
const RUNS = Number(args.runs);
const FSYNC = args.fsync === "interval" ? "interval" : "always";
const TOPIC: TopicConfig = {
  name: "bench",
  retention: {},
  dedupeWindowMs: 300_000,
  maxEventBytes: 1_048_576,
};
const PAD = "x".repeat(110);

const eventJson = (): string =>
  JSON.stringify({
    specversion: "1.0",
    id: randomUUID(),
    source: "/bench",
    time: new Date().toISOString(),
    type: "bench.event",
    data: { seq: 1, pad: PAD },
  });

const KINDS = {
  batch: { requests: 400, perRequest: 500, inFlight: 4 },
  single: { requests: 40_000, perRequest: 1, inFlight: 64 },
} as const;

async function run(kind: keyof typeof KINDS): Promise<{ cpuUs: number; rate: number }> {
  const { requests, perRequest, inFlight } = KINDS[kind];
  const dir = mkdtempSync(join(tmpdir(), "sy-publish-path-"));
  const engine = await openSqliteEngine({ dir, fsync: FSYNC, retentionIntervalMs: 0 });
  try {
    await engine.log.putTopic(TOPIC);
    const bodies = Array.from({ length: requests }, () =>
      perRequest === 1
        ? eventJson()
        : `[${Array.from({ length: perRequest }, eventJson).join(",")}]`,
    );
    let next = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < bodies.length) {
          const parsed: unknown = JSON.parse(bodies[next++] ?? "[]");
          const input = perRequest === 1 ? [parsed] : (parsed as unknown[]);
          const prepared = prepareEvents(input, perRequest > 1, TOPIC, systemClock);
          const appended = await engine.log.append(TOPIC.name, prepared.events);
          JSON.stringify(appended.map((a, i) => ({ id: prepared.events[i]?.id, ...a })));
        }
      }),
    );
    const used = process.cpuUsage(cpu);
    const events = requests * perRequest;
    return {
      cpuUs: (used.user + used.system) / events,
      rate: (events / (performance.now() - started)) * 1000,
    };
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

for (const kind of Object.keys(KINDS) as (keyof typeof KINDS)[]) {
  const results = [];
  for (let i = 0; i < RUNS; i++) results.push(await run(kind));
  console.log(
    `${kind.padEnd(6)} fsync ${FSYNC}: ${median(results.map((r) => r.cpuUs)).toFixed(2)} µs CPU/event, ${Math.round(median(results.map((r) => r.rate))).toLocaleString("en-US")} events/s   runs: ${results.map((r) => r.cpuUs.toFixed(2)).join(", ")} µs`,
  );
}
