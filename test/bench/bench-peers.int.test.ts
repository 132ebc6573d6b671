/**
 * `bench:peers` end to end on a small selection: a peer that is unreachable (RabbitMQ pointed
 * at a port nobody listens on) is reported as "not measured: why" and the run still exits 0,
 * measuring the others and writing the JSON, the chart and the docs section.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { SECTION_END, SECTION_START } from "../../bench/peers/format.ts";
import type { PeersReport } from "../../bench/peers/model.ts";
import { redisUnavailable } from "../../bench/subjects/redis.ts";

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bench/peers/main.ts");

/** A port that was free a moment ago: nothing listens on it. */
function closedPort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 1));
    });
  });
}

describe("bench:peers --quick", () => {
  let out: string | undefined;
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it.skipIf(redisUnavailable() !== undefined)(
    "reports an unreachable peer as not measured and still measures and writes the rest",
    async () => {
      out = await mkdtemp(join(tmpdir(), "switchyard-bench-peers-"));
      const port = await closedPort();
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          MAIN,
          "--quick",
          "--only",
          "rabbitmq/classic,redis-streams/everysec",
          "--out",
          out,
          "--docs",
          join(out, "docs"),
          "--data-root",
          out,
        ],
        {
          timeout: 120_000,
          maxBuffer: 16 * 1024 * 1024,
          env: { ...process.env, BENCH_RABBITMQ_PORT: String(port) },
        },
      );
      expect(stdout).toContain(
        `rabbitmq/classic (classic queue, publisher confirms, shared broker): not measured: no AMQP broker listening on 127.0.0.1:${port}`,
      );
      const json = (await readdir(out)).filter((f) => /^peers-.*\.json$/.test(f));
      expect(json).toHaveLength(1);
      const report = JSON.parse(await readFile(join(out, json[0] ?? ""), "utf8")) as PeersReport;
      const redis = report.rows.filter((row) => row.subject === "redis-streams/everysec");
      expect(redis.map((row) => row.scenario)).toEqual([
        "publish-batched",
        "publish-http",
        "latency",
        "drain",
        "fanout",
      ]);
      for (const row of redis) {
        expect(row.value).toBeGreaterThan(0);
        expect(row.ratio).toBe(1); // the only measured peer of its durability
        expect(row.durability).toBe("AOF, appendfsync everysec");
      }
      const rabbit = report.rows.filter((row) => row.subject === "rabbitmq/classic");
      expect(rabbit).toHaveLength(5);
      for (const row of rabbit) expect(row.value).toBeNull();
      const svg = await readFile(join(out, "docs/benchmarks-peers.svg"), "utf8");
      expect(svg).toContain("not measured: no AMQP broker listening");
      const doc = await readFile(join(out, "docs/benchmarks.md"), "utf8");
      expect(doc).toContain(SECTION_START);
      expect(doc).toContain(SECTION_END);
      expect(doc).toContain("| fan-out to 10 subscriptions");
    },
    150_000,
  );
});
