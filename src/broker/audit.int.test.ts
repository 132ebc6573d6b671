/**
 * The audit trail over a real SQLite engine: an append that fails never fails the action it
 * records, and refused credentials are written at most once a second with the count dropped.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../core/clock.js";
import { SecretKeyRing } from "../core/secret-box.js";
import type { Engine } from "../engine/engine.js";
import { openSqliteEngine } from "../engine/sqlite/index.js";
import { AUDIT_RETENTION_MS, AUDIT_TOPIC } from "./audit.js";
import { Broker } from "./broker.js";

describe("audit trail", () => {
  let dir: string;
  let engine: Engine;
  let now = 1_000_000;
  const clock = { ...systemClock, now: () => now };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "switchyard-audit-"));
    engine = await openSqliteEngine({ dir });
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function trail(): Promise<{ type: string; data: Record<string, unknown> }[]> {
    const page = await engine.log.read(AUDIT_TOPIC, { offset: 1 }, 1_000);
    return page.records.map((r) => JSON.parse(r.body));
  }

  it("a failed append leaves the action a success, and is reported", async () => {
    const failures: unknown[] = [];
    const broker = new Broker({
      engine,
      clock,
      secretKeys: SecretKeyRing.generate(),
      onAuditError: (error) => failures.push(error),
    });
    const append = engine.log.append.bind(engine.log);
    engine.log.append = async (topic, events) => {
      if (topic === AUDIT_TOPIC) throw new Error("store full");
      return append(topic, events);
    };
    const put = await broker.putTopic("orders", {}, { id: "k1", name: "ops" });
    expect(put.created).toBe(true);
    await broker.deleteTopic("orders", false, { id: "k1", name: "ops" });
    expect(failures.map((e) => (e as Error).message)).toEqual(["store full", "store full"]);
    engine.log.append = append;
    await broker.putTopic("orders", {}, null);
    expect((await trail()).map((e) => e.type)).toEqual(["switchyard.topic.created"]);
    expect((await engine.log.getTopic(AUDIT_TOPIC))?.retention).toEqual({
      maxAgeMs: AUDIT_RETENTION_MS,
    });
  });

  it("writes one refusal a second, the next carrying how many were dropped", async () => {
    const broker = new Broker({ engine, clock, secretKeys: SecretKeyRing.generate() });
    const refusal = { reason: "unknown" as const, keyId: "abc", route: "GET /v1/topics" };
    for (let i = 0; i < 20; i++) broker.audit.refused(refusal);
    now += 999;
    broker.audit.refused(refusal); // still within the second
    now += 1;
    broker.audit.refused({ ...refusal, reason: "expired" });
    await expect.poll(async () => (await trail()).length).toBe(2);
    const [first, second] = await trail();
    expect(first?.data).toMatchObject({ reason: "unknown", suppressed: 0, actor: null });
    expect(second?.data).toMatchObject({ reason: "expired", suppressed: 20 });
  });
});
