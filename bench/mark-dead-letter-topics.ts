/**
 * What the upgrade to router-owned topics costs at start (SQLite, no HTTP): `n` subscriptions
 * whose dead-letter topics were written unmarked (the shape of a store from before the
 * marker), then `Broker.markDeadLetterTopics()` twice: the first start after the upgrade
 * marks them all, every later start only checks.
 *
 *   node bench/mark-dead-letter-topics.ts [--n 1000]
 */
import "../test/support/ts-resolve.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

// After the resolve hook above: the sources import each other as `.js`.
const { Broker } = await import("../src/broker/broker.ts");
const { SecretKeyRing } = await import("../src/core/secret-box.ts");
const { subscriptionConfig, topicConfig } = await import("../src/engine/conformance/fixtures.ts");
const { openSqliteEngine } = await import("../src/engine/sqlite/index.ts");
const { values: args } = parseArgs({ options: { n: { type: "string", default: "1000" } } });
const N = Number(args.n);

const dir = mkdtempSync(join(tmpdir(), "sy-bench-owned-"));
const engine = await openSqliteEngine({ dir });
try {
  await engine.log.putTopic(topicConfig("src"));
  for (let i = 0; i < N; i++) {
    const config = subscriptionConfig(`s${i}`, "src");
    await engine.log.putTopic(topicConfig(config.deadLetterTopic));
    await engine.cursors.putSubscription(config);
  }
  const broker = new Broker({ engine, secretKeys: SecretKeyRing.generate() });
  const timed = async () => {
    const started = performance.now();
    const marked = await broker.markDeadLetterTopics();
    return { marked, ms: Math.round(performance.now() - started) };
  };
  const first = await timed();
  const again = await timed();
  console.log(JSON.stringify({ subscriptions: N, firstStart: first, laterStarts: again }));
  await broker.close();
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
