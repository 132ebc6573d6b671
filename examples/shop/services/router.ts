/**
 * The router for the demo: a dev-style Switchyard (topics created on first use, push to
 * 127.0.0.1 allowed) with short circuit-breaker pauses, so a restarted service gets its
 * webhooks again within seconds. It runs with auth: `SWITCHYARD_ADMIN_KEY` (set by the fleet)
 * is its first admin key.
 */
import { startRouter } from "switchyard";
import { env } from "../lib/env.ts";

const LEVELS = ["fatal", "error", "warn", "info", "debug", "silent"] as const;
/** `LOG_LEVEL` (default warn): the test runs it at `debug` to check no key is ever logged. */
const logLevel = LEVELS.find((level) => level === env("LOG_LEVEL", "warn"));
if (logLevel === undefined) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(", ")}`);

const router = await startRouter({
  port: Number(env("PORT", "8420")),
  dataDir: env("DATA_DIR", ".switchyard/demo/router"),
  auth: true,
  adminKey: env("SWITCHYARD_ADMIN_KEY"),
  autoCreateTopics: true,
  allowPrivateEndpoints: true,
  logLevel,
  push: { circuitOpenMs: 200, circuitMaxOpenMs: 1_000 },
});
console.log(`router ready ${router.url}`);

const stop = () => void router.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
