/**
 * API keys across nodes: two routers on one nats-server share their keys through the
 * Catalog. A key created on one node authenticates on the other within 1 s, a revocation on
 * one fails it on the other within 1 s, and `keys create --engine nats` writes a key while
 * both run.
 */
import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/broker/keys.js";
import { eventually } from "../support/eventually.js";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import { startTestRouter, type TestRouter } from "../support/router.js";
import { TEST_SECRET_KEY } from "../support/router-process.js";

const ADMIN = generateKey().key;
const bin = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard.js");

async function status(router: TestRouter, key: string, path = "/v1/keys/self"): Promise<number> {
  const response = await fetch(`${router.url}${path}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  await response.arrayBuffer();
  return response.status;
}

describe.runIf(natsServerAvailable())("API keys on two nodes of one JetStream", () => {
  let nats: NatsServers;
  let a: TestRouter;
  let b: TestRouter;
  const prefix = `AK${Date.now().toString(36)}`;

  beforeAll(async () => {
    nats = await startNatsServer();
    const options = {
      auth: true,
      adminKey: ADMIN,
      engine: "nats" as const,
      nats: { url: nats.url, prefix },
      secretKeys: TEST_SECRET_KEY,
    };
    // The admin key is registered by compare-and-set: two nodes starting at once both succeed.
    [a, b] = await Promise.all([startTestRouter(options), startTestRouter(options)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.dispose(), b?.dispose()]);
    await nats?.close();
  });

  it("a key created on A authenticates on B within 1 s; revoked on A, it fails on B within 1 s", async () => {
    const response = await fetch(`${a.url}/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "roaming", scopes: ["read:*"] }),
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string; key: string };
    const createdAt = Date.now();
    await eventually(async () => expect(await status(b, created.key)).toBe(200), {
      timeoutMs: 1_000,
    });
    const seenAfter = Date.now() - createdAt;

    const revoke = await fetch(`${a.url}/v1/keys/${created.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(revoke.status).toBe(204);
    const revokedAt = Date.now();
    await eventually(async () => expect(await status(b, created.key)).toBe(401), {
      timeoutMs: 1_000,
    });
    const failedAfter = Date.now() - revokedAt;
    expect(seenAfter).toBeLessThan(1_000);
    expect(failedAfter).toBeLessThan(1_000);
  });

  it("keys create --engine nats writes a key while both nodes run", async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(
        process.execPath,
        [bin, "keys", "create", "--name", "ops", "--scope", "metrics"].concat([
          "--engine",
          "nats",
          "--nats-url",
          nats.url,
          "--nats-prefix",
          prefix,
        ]),
        { timeout: 30_000 },
        (error, stdout, stderr) =>
          done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    const key = /^(sy_\S+)$/m.exec(run.stdout)?.[1] ?? "";
    for (const node of [a, b])
      await eventually(async () => expect(await status(node, key, "/metrics")).toBe(200));
    expect(await status(a, key, "/v1/topics/x")).toBe(403);
  });
});
