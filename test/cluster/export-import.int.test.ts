/**
 * Moving a topic's history from the embedded engine to NATS with the real CLI:
 * `switchyard export` from a SQLite router, `switchyard import` into a NATS router. The
 * target holds the same events, in the same order, with their own ids, sources, times and
 * keys; running the import again stores nothing twice.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import { api, event, uniqueName } from "../support/router.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard.js");
const run = promisify(execFile);

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { encoding: "utf8" });
}

describe.runIf(natsServerAvailable())("switchyard export / import: embedded → NATS", () => {
  let dir: string;
  let nats: NatsServers;
  let embedded: RouterProcess;
  let onNats: RouterProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sy-export-"));
    nats = await startNatsServer();
    embedded = await startRouterProcess({ dataDir: join(dir, "sqlite") });
    onNats = await startRouterProcess({
      dataDir: join(dir, "nats"),
      args: ["--engine", "nats", "--nats-url", nats.url, "--nats-prefix", "IMPORT"],
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([embedded?.stop(), onNats?.stop()]);
    await nats?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies every event in order, keeps ids, sources, times and keys; a re-run adds nothing", async () => {
    const topic = uniqueName("orders");
    const from = api(embedded.url);
    const to = api(onNats.url);
    expect((await from.put(`/v1/topics/${topic}`, {})).status).toBe(201);
    const events = Array.from({ length: 250 }, (_, i) =>
      event({ partitionkey: `k${i % 7}`, data: { i } }),
    );
    expect((await from.publish(topic, events)).status).toBe(201);

    const file = join(dir, `${topic}.jsonl`);
    const exported = await cli("export", topic, "--out", file, "--url", embedded.url);
    expect(exported.stderr).toContain("exported 250 events");
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).offset)).toEqual(events.map((_, i) => i + 1));

    expect((await to.put(`/v1/topics/${topic}`, {})).status).toBe(201);
    await cli("import", topic, "--file", file, "--url", onNats.url);
    const read = await to.get(`/v1/topics/${topic}/events?from=1&limit=1000`);
    const stored = read.body.events as Record<string, unknown>[];
    const source = (await from.get(`/v1/topics/${topic}/events?from=1&limit=1000`)).body
      .events as Record<string, unknown>[];
    const strip = (e: Record<string, unknown>) => {
      const { offset: _o, topic: _t, appendedat: _a, ...rest } = e;
      return rest;
    };
    expect(stored.map(strip)).toEqual(source.map(strip));
    expect(stored.map((e) => e.offset)).toEqual(source.map((e) => e.offset));

    await cli("import", topic, "--file", file, "--url", onNats.url);
    expect((await to.get(`/v1/topics/${topic}`)).body.stats.events).toBe(250);
  });

  it("dead letters import without the router's deadletter* attributes; never into a dead-letter topic", async () => {
    const topic = uniqueName("src");
    const sub = uniqueName("s");
    const from = api(embedded.url);
    const to = api(onNats.url);
    await from.put(`/v1/topics/${topic}`, {});
    await from.put(`/v1/subscriptions/${sub}`, { topic, start: "earliest" });
    await from.publish(topic, [event({ data: { i: 1 } }), event({ data: { i: 2 } })]);
    const pulled = (await from.post(`/v1/subscriptions/${sub}/pull`, { max: 2 })).body.deliveries;
    await from.post(`/v1/subscriptions/${sub}/reject`, {
      ackIds: pulled.map((d: { ackId: string }) => d.ackId),
      reason: "bad",
    });
    const dlq = `${topic}.${sub}.dlq`;
    const file = join(dir, `${dlq}.jsonl`);
    await cli("export", dlq, "--out", file, "--url", embedded.url);
    expect(JSON.parse(readFileSync(file, "utf8").split("\n")[0] ?? "")).toHaveProperty(
      "deadletterreason",
      "bad",
    );

    const fixed = uniqueName("fixed");
    await to.put(`/v1/topics/${fixed}`, {});
    await cli("import", fixed, "--file", file, "--url", onNats.url);
    const stored = (await to.get(`/v1/topics/${fixed}/events?from=1`)).body.events;
    expect(stored.map((e: { data: unknown }) => e.data)).toEqual([{ i: 1 }, { i: 2 }]);
    for (const e of stored)
      expect(Object.keys(e).filter((k) => k.startsWith("deadletter"))).toEqual([]);

    // The target's own dead-letter topic takes no import: only its router appends there.
    await to.put(`/v1/topics/${topic}`, {});
    await to.put(`/v1/subscriptions/${sub}`, { topic });
    const refused = await cli("import", dlq, "--file", file, "--url", onNats.url).catch(
      (error: { stderr: string }) => error,
    );
    expect(refused.stderr).toContain("(forbidden)");
    expect((await to.get(`/v1/topics/${dlq}`)).body).toMatchObject({
      owner: "router",
      stats: { events: 0 },
    });
  });
});
