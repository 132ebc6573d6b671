/**
 * Redrive jobs live in the Catalog: two `RedriveJobs` over one real SQLite engine stand for
 * two nodes. A job started on one is read on the other; the running node heartbeats the
 * record; a running job whose node stopped writing it reads `failed` with what it moved.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import type { TimeSource } from "../core/clock.js";
import { SwitchyardError } from "../core/errors.js";
import { newEvents } from "../engine/conformance/fixtures.js";
import { leaseNow } from "../engine/conformance/probes.js";
import { setup } from "../engine/conformance/scope.js";
import type { Engine } from "../engine/engine.js";
import { openSqliteEngine } from "../engine/sqlite/index.js";
import { REDRIVE_KIND, RedriveJobs, type RedriveJobsOptions, STALE_JOB_ERROR } from "./redrive.js";

const origin = { actor: "test" };
const noAudit = async () => undefined;

describe("redrive jobs in the Catalog", () => {
  let dir: string;
  let engine: Engine;
  const nodes: RedriveJobs[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "switchyard-redrive-"));
    engine = await openSqliteEngine({ dir });
  });

  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.drain();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function node(options: Partial<RedriveJobsOptions> = {}): RedriveJobs {
    const jobs = new RedriveJobs(engine, {
      clock: { now: () => Date.now() },
      audit: noAudit,
      ...options,
    });
    nodes.push(jobs);
    return jobs;
  }

  /** A subscription with `count` dead letters. */
  async function deadLetters(count: number): Promise<string> {
    const s = await setup(engine);
    await engine.log.append(s.topic, newEvents(count));
    const leased = await leaseNow(engine, s.sub);
    await engine.cursors.reject(
      s.sub,
      leased.map((d) => d.ackId),
      "bad",
    );
    return s.sub;
  }

  it("a job started on one node is read, running and then done, on another", async () => {
    const sub = await deadLetters(4);
    const a = node();
    const b = node();
    const started = await a.start(sub, {}, { chunkSize: 1, ratePerSecond: 20 }, origin);
    const id = started.redrive ?? "";
    expect((await b.get(sub, id)).subscription).toBe(sub);
    const done = await eventually(async () => {
      const job = await b.get(sub, id);
      expect(job.state).toBe("done");
      return job;
    });
    expect(done).toMatchObject({ matched: 4, moved: 4, actor: "test" });
    const record = await engine.catalog.get(REDRIVE_KIND, `${sub}/${id}`);
    expect(record?.expiresAt).toBeGreaterThan(Date.now() + 6 * 24 * 3_600_000);
  });

  it("the running node heartbeats the record; a reader of a stale running job sees failed", async () => {
    const sub = await deadLetters(5);
    const a = node({ heartbeatMs: 100 });
    // One event now, the next only after 10 s: the job sits in its pacing wait.
    const started = await a.start(sub, {}, { chunkSize: 1, ratePerSecond: 0.1 }, origin);
    const id = started.redrive ?? "";
    const key = `${sub}/${id}`;
    const first = await eventually(async () => {
      const entry = await engine.catalog.get(REDRIVE_KIND, key);
      expect(entry?.value).toMatchObject({ state: "running", moved: 1 });
      return entry;
    });
    await eventually(async () => {
      const entry = await engine.catalog.get(REDRIVE_KIND, key);
      expect(entry?.revision).toBeGreaterThan(first?.revision ?? 0);
      expect(entry?.value).toMatchObject({ state: "running", moved: 1 });
    });
    expect((await node().get(sub, id)).state).toBe("running");
    const later: TimeSource = { now: () => Date.now() + 31_000 };
    expect(await node({ clock: later }).get(sub, id)).toMatchObject({
      state: "failed",
      moved: 1,
      error: STALE_JOB_ERROR,
    });
    // Stopping the node ends the job as failed with what it moved: redriving again is safe.
    await a.drain();
    expect(await node().get(sub, id)).toMatchObject({ state: "failed", moved: 1 });
    const again = await node().start(sub, {}, { chunkSize: 10, ratePerSecond: null }, origin);
    expect(again.matched).toBe(4);
  });

  it("answers redrive_not_found for unknown ids, ids of another subscription and malformed ids", async () => {
    const sub = await deadLetters(1);
    const other = await deadLetters(1);
    const a = node();
    const id =
      (await a.start(sub, {}, { chunkSize: 10, ratePerSecond: null }, origin)).redrive ?? "";
    for (const [s, i] of [
      [sub, "00000000-0000-0000-0000-000000000000"],
      [other, id],
      [sub, "a b"],
      [sub, "../x"],
      [sub, ""],
    ] as const) {
      const error = await a.get(s, i).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SwitchyardError);
      expect((error as SwitchyardError).code).toBe("redrive_not_found");
    }
  });
});
