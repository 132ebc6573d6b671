/**
 * `node bench/push-secrets.ts [subscriptions]`: what sealing push secrets
 * costs. Seal and open of one value, then a router start over a store of N push
 * subscriptions (default 1000, one secret and two headers each) written in plaintext (the
 * start seals them all), and a second start (opens and checks them all, writes nothing).
 */
import "../test/support/ts-resolve.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const { SecretKeyRing } = await import("../src/core/secret-box.ts");
const { createEngine } = await import("../src/engine/create-engine.ts");
const { startRouter } = await import("../src/index.ts");

const count = Number(process.argv[2] ?? 1_000);
const SECRET = "whsec_c2VjcmV0LWJ5dGVzLW5vYm9keS1zaG91bGQtc2VlLTEyMw==";

function perValue(): void {
  const ring = SecretKeyRing.generate();
  const rounds = 100_000;
  const sealed: string[] = [];
  let t = performance.now();
  for (let i = 0; i < rounds; i++) sealed.push(ring.seal(SECRET));
  const seal = ((performance.now() - t) * 1000) / rounds;
  t = performance.now();
  for (const value of sealed) ring.open(value);
  const open = ((performance.now() - t) * 1000) / rounds;
  console.log(`seal ${seal.toFixed(2)} µs/value, open ${open.toFixed(2)} µs/value`);
}

async function writePlaintextStore(dataDir: string): Promise<void> {
  const engine = await createEngine({ kind: "sqlite", dataDir });
  await engine.ready();
  const topic = { name: "t", retention: {}, dedupeWindowMs: 300_000, maxEventBytes: 1_048_576 };
  await engine.log.putTopic(topic);
  await engine.log.putTopic({ ...topic, name: "t.dlq" });
  for (let i = 0; i < count; i++)
    await engine.cursors.putSubscription({
      name: `s${i}`,
      topic: "t",
      filter: null,
      start: "latest",
      ackTimeoutMs: 30_000,
      maxAttempts: 10,
      backoff: { initialMs: 1_000, maxMs: 600_000, multiplier: 2 },
      deadLetterTopic: "t.dlq",
      ordering: "none",
      maxInFlight: 1_000,
      push: {
        url: "https://hooks.example/x",
        headers: { authorization: `Bearer ${i}`, "x-team": "shop" },
        timeoutMs: 10_000,
        mode: "binary",
        secrets: [SECRET],
        paused: { reason: "bench", at: 0 }, // no delivery attempts while measuring
      },
    });
  await engine.close();
}

async function timedStart(dataDir: string): Promise<number> {
  const t = performance.now();
  const router = await startRouter({ dataDir, port: 0, logLevel: "silent" });
  const ms = performance.now() - t;
  await router.close();
  return ms;
}

perValue();
const dataDir = mkdtempSync(join(tmpdir(), "sy-bench-secrets-"));
try {
  await writePlaintextStore(dataDir);
  const migrate = await timedStart(dataDir);
  const again = await timedStart(dataDir);
  console.log(
    `${count} push subscriptions: start sealing all ${migrate.toFixed(0)} ms, next start ${again.toFixed(0)} ms`,
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
