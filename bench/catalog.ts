/**
 * Engine-level benchmark of the Catalog (no HTTP): latency of sequential puts, and of a put
 * reaching a watch (on SQLite the same process; on NATS a second engine, i.e. another node,
 * on one local nats-server started here); then 20-way compare-and-set races.
 *
 *   node bench/catalog.ts [--engine sqlite|nats] [--n 500] [--races 20]
 */
import "../test/support/ts-resolve.ts";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Engine } from "../src/engine/engine.ts";

const { values: args } = parseArgs({
  options: {
    engine: { type: "string", default: "sqlite" },
    n: { type: "string", default: "500" },
    races: { type: "string", default: "20" },
  },
});
const N = Number(args.n);
const RACES = Number(args.races);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function summary(label: string, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2);
  console.log(
    `${label}: n=${sorted.length} p50=${f(percentile(sorted, 50))} ms p99=${f(percentile(sorted, 99))} ms max=${f(sorted.at(-1) ?? 0)} ms`,
  );
}

async function engines(): Promise<{ writer: Engine; reader: Engine; close(): Promise<void> }> {
  if (args.engine === "nats") {
    const { startNatsServer } = await import("../test/support/nats-server.ts");
    const { NatsEngine } = await import("../src/engine/nats/index.ts");
    const nats = await startNatsServer();
    const prefix = `CB${randomBytes(3).toString("hex")}`;
    const writer = await NatsEngine.open({ servers: nats.url, prefix });
    const reader = await NatsEngine.open({ servers: nats.url, prefix });
    return {
      writer,
      reader,
      async close() {
        await reader.close();
        await writer.close();
        await nats.close();
      },
    };
  }
  const { openSqliteEngine } = await import("../src/engine/sqlite/index.ts");
  const dir = mkdtempSync(join(tmpdir(), "sy-bench-catalog-"));
  const engine = await openSqliteEngine({ dir });
  return {
    writer: engine,
    reader: engine,
    async close() {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const { writer, reader, close } = await engines();
const seen = new Map<number, number>();
const controller = new AbortController();
let synced!: () => void;
const ready = new Promise<void>((resolve) => {
  synced = resolve;
});
const watching = (async () => {
  for await (const event of reader.catalog.watch("bench", controller.signal)) {
    if (event.type === "synced") synced();
    else seen.set(event.revision, performance.now());
  }
})();
await ready;

const putMs: number[] = [];
const watchMs: number[] = [];
for (let i = 0; i < N; i++) {
  const started = performance.now();
  const revision = await writer.catalog.put("bench", `k${i % 50}`, { i, pad: "x".repeat(200) });
  putMs.push(performance.now() - started);
  while (!seen.has(revision)) await new Promise((resolve) => setImmediate(resolve));
  watchMs.push((seen.get(revision) ?? 0) - started);
}
summary(`${args.engine} put (200-byte record)`, putMs);
summary(
  `${args.engine} put -> ${args.engine === "nats" ? "other node's" : "local"} watch`,
  watchMs,
);

let conflicts = 0;
let wins = 0;
for (let r = 0; r < RACES; r++) {
  const current = await writer.catalog.get("bench", "k0");
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? writer : reader).catalog.put(
        "bench",
        "k0",
        { r, i },
        { expectedRevision: current?.revision ?? 0 },
      ),
    ),
  );
  wins += results.filter((x) => x.status === "fulfilled").length;
  conflicts += results.filter((x) => x.status === "rejected").length;
}
console.log(
  `${args.engine} ${RACES} races of 20 writers at one revision: ${wins} won, ${conflicts} conflicts`,
);

controller.abort();
await watching;
await close();
