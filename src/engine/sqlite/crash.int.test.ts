/**
 * SIGKILL durability: a child process publishes and consumes (key ordering) while it is
 * killed at random moments and restarted on the same store. Afterwards every publish it was
 * answered is in the log exactly once, no ack it was answered `ok` is ever redelivered, every
 * other event is delivered again, and no key ever went back to an earlier offset.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import type { Engine } from "../engine.js";
import { openSqliteEngine } from "./index.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const KILLS = Number(process.env.SWITCHYARD_CRASH_KILLS ?? 4);

interface Reports {
  readonly appended: Set<string>;
  readonly acking: Set<number>;
  readonly acked: Set<number>;
  /** Every delivery in order: [offset, key]. */
  readonly leased: [number, string | null][];
}

function runChild(
  dir: string,
  run: string,
  reports: Reports,
): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(
    process.execPath,
    ["--import", "./test/support/ts-resolve.ts", "test/support/sqlite-crash-child.ts", dir, run],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const ready = new Promise<void>((resolveReady, reject) => {
    child.once("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const report = JSON.parse(line) as Record<string, unknown>;
      if (report.ready === true) resolveReady();
      for (const id of (report.appended as string[] | undefined) ?? []) reports.appended.add(id);
      for (const o of (report.acking as number[] | undefined) ?? []) reports.acking.add(o);
      for (const o of (report.acked as number[] | undefined) ?? []) reports.acked.add(o);
      reports.leased.push(...((report.leased as [number, string | null][] | undefined) ?? []));
    });
  });
  return { child, ready };
}

async function killAfter(child: ChildProcess, ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

async function drain(engine: Engine, reports: Reports): Promise<void> {
  for (;;) {
    const deliveries = await engine.cursors.lease("s", { max: 500, waitMs: 1_500 });
    if (deliveries.length === 0) return;
    reports.leased.push(
      ...deliveries.map((d): [number, string | null] => [d.record.offset, d.record.key]),
    );
    await engine.cursors.ack(
      "s",
      deliveries.map((d) => d.ackId),
    );
  }
}

describe("sqlite engine under SIGKILL", () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-crash-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loses no answered publish or ack and keeps per-key order across kills", async () => {
    const reports: Reports = {
      appended: new Set(),
      acking: new Set(),
      acked: new Set(),
      leased: [],
    };
    for (let round = 0; round < KILLS; round++) {
      const { child, ready } = runChild(dir, `r${round}`, reports);
      await ready;
      await killAfter(child, 300 + Math.floor(Math.random() * 700));
    }
    expect(reports.appended.size).toBeGreaterThan(0);
    const lastChildDelivery = reports.leased.length;

    const engine = await openSqliteEngine({ dir });
    const log = await engine.log.read("t", { offset: 1 }, 1_000_000);
    const ids = log.records.map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(new Set(ids).size).toBe(ids.length);
    const stored = new Set(ids);
    expect([...reports.appended].filter((id) => !stored.has(id))).toEqual([]);

    await drain(engine, reports);
    const drained = new Set(reports.leased.slice(lastChildDelivery).map(([o]) => o));
    expect([...drained].filter((o) => reports.acked.has(o))).toEqual([]);
    const unaccounted = log.records
      .map((r) => r.offset)
      .filter((o) => !drained.has(o) && !reports.acking.has(o));
    expect(unaccounted).toEqual([]);

    const highest = new Map<string | null, number>();
    const backwards = reports.leased.filter(([offset, key]) => {
      const max = highest.get(key) ?? 0;
      highest.set(key, Math.max(max, offset));
      return offset < max;
    });
    expect(backwards).toEqual([]);
    await engine.close();
  }, 120_000);
});
