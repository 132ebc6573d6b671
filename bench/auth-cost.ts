/**
 * The per-request cost of authentication and authorization, in process: `KeyStore.authenticate`
 * (header split, Map lookup, SHA-256, constant-time compare) plus a precompiled scope match,
 * timed over many calls with the process's CPU clock. Run after `npm run build`:
 *   node bench/auth-cost.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), "../dist");
type Keys = typeof import("../src/broker/keys.ts");
type Engines = typeof import("../src/engine/create-engine.ts");
const { KeyStore } = (await import(pathToFileURL(join(DIST, "broker/keys.js")).href)) as Keys;
const { createEngine } = (await import(
  pathToFileURL(join(DIST, "engine/create-engine.js")).href
)) as Engines;

const CALLS = 200_000;
const dir = mkdtempSync(join(tmpdir(), "switchyard-auth-cost-"));
const engine = await createEngine({ kind: "sqlite", dataDir: dir });
const store = new KeyStore(engine.catalog);
await store.start();
const scopes = ["publish:orders.*", "read:orders.*", "consume:billing-*", "manage:team-a.*"];
const created = await store.create({ name: "bench", scopes, expiresAt: null, rateLimit: null });
const header = `Bearer ${created.key}`;
while (true) {
  try {
    store.authenticate(header);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 10));
  }
}
for (let round = 0; round < 3; round++) {
  const start = process.cpuUsage();
  let allowed = 0;
  for (let i = 0; i < CALLS; i++) {
    const principal = store.authenticate(header);
    if (principal.grants.allows({ kind: "publish", name: "orders.eu" })) allowed++;
    // Let the Catalog watch deliver its synced markers, as between real requests.
    if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
  }
  const used = process.cpuUsage(start);
  const us = (used.user + used.system) / CALLS;
  process.stdout.write(
    `round ${round + 1}: ${us.toFixed(2)} µs CPU per authenticated request (${allowed} allowed)\n`,
  );
}
await store.close();
await engine.close();
rmSync(dir, { recursive: true, force: true });
