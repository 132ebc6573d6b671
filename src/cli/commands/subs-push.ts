import type { Command } from "commander";
import type { PushSettings, Subscription } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { usage } from "../fail.js";
import { parseDuration, parseInteger } from "../parse.js";

/** `subs pause|resume` and the push-tuning flags of `subs create`. */

interface PauseFlags extends ConnectionFlags {
  readonly reason?: string;
  readonly json?: boolean;
}

export interface PushTuningFlags {
  readonly pushBatch?: string;
  readonly pushBatchBytes?: string;
  readonly pushLinger?: string;
  readonly pushRate?: string;
  readonly pushMaxAge?: string;
  readonly pushClientErrors?: string;
}

export function registerPauseResume(subs: Command): void {
  addConnectionOptions(
    subs
      .command("pause <name>")
      .description("stop pushing to a subscription's endpoint until `subs resume`")
      .option("--reason <text>", "why (shown in `subs get`)")
      .option("--json", "print JSON"),
  ).action(async (name: string, flags: PauseFlags) => {
    const sub = await withClient(flags, (c) => c.admin.subscriptions.pause(name, flags.reason));
    process.stdout.write(flags.json ? `${JSON.stringify(sub)}\n` : `paused ${name}\n`);
  });
  addConnectionOptions(
    subs
      .command("resume <name>")
      .description("resume pushing to a paused subscription's endpoint")
      .option("--json", "print JSON"),
  ).action(async (name: string, flags: PauseFlags) => {
    const sub = await withClient(flags, (c) => c.admin.subscriptions.resume(name));
    process.stdout.write(
      flags.json ? `${JSON.stringify(sub)}\n` : `resumed ${name} (${sub.state})\n`,
    );
  });
}

export function addPushTuningOptions(command: Command): Command {
  return command
    .option("--push-batch <n>", "send up to n events per request as a CloudEvents batch")
    .option("--push-batch-bytes <n>", "largest batch body in bytes (default 1048576)")
    .option("--push-linger <duration>", "wait this long for a batch to fill (default 0)")
    .option("--push-rate <n>", "at most n push requests per second")
    .option("--push-max-age <duration>", "dead-letter failed events older than this")
    .option("--push-client-errors <mode>", "retry | dead-letter: what a 4xx answer does");
}

export function pushTuning(flags: PushTuningFlags): Partial<PushSettings> {
  const mode = flags.pushClientErrors;
  if (mode !== undefined && mode !== "retry" && mode !== "dead-letter")
    throw usage(
      `--push-client-errors ${JSON.stringify(mode)} is not retry or dead-letter`,
      "use retry or dead-letter",
    );
  const batch = {
    ...(flags.pushBatch
      ? { maxEvents: parseInteger(flags.pushBatch, "--push-batch", 1, 10_000) }
      : {}),
    ...(flags.pushBatchBytes
      ? { maxBytes: parseInteger(flags.pushBatchBytes, "--push-batch-bytes", 1_024) }
      : {}),
    ...(flags.pushLinger ? { lingerMs: parseDuration(flags.pushLinger, "--push-linger") } : {}),
  };
  return {
    ...(Object.keys(batch).length > 0 ? { batch } : {}),
    ...(flags.pushRate ? { ratePerSecond: parseRate(flags.pushRate) } : {}),
    ...(flags.pushMaxAge ? { maxAgeMs: parseDuration(flags.pushMaxAge, "--push-max-age") } : {}),
    ...(mode === undefined ? {} : { onClientError: mode }),
  };
}

function parseRate(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw usage(
      `--push-rate ${JSON.stringify(value)} is not a positive number`,
      "e.g. --push-rate 50",
    );
  return n;
}

/** The `subs get` lines about push delivery health. */
export function pushHealthPairs(sub: Subscription): [string, string][] {
  if (sub.push === null) return [];
  const pairs: [string, string][] = [["state", sub.state ?? "healthy"]];
  const health = sub.health;
  if (health?.pausedReason) pairs.push(["paused because", health.pausedReason]);
  if (health && health.circuit !== "closed") pairs.push(["circuit", health.circuit]);
  if (health && health.consecutiveFailures > 0)
    pairs.push(["consecutive failures", String(health.consecutiveFailures)]);
  const push = sub.push;
  if (push.batch)
    pairs.push([
      "batch",
      `${push.batch.maxEvents ?? 100} events, linger ${push.batch.lingerMs ?? 0} ms`,
    ]);
  if (push.ratePerSecond) pairs.push(["rate limit", `${push.ratePerSecond}/s`]);
  // Values are write-only: the router answers names and a count only.
  if (push.headerNames.length > 0) pairs.push(["push headers", push.headerNames.join(", ")]);
  if (push.secretCount > 0) pairs.push(["signing secrets", String(push.secretCount)]);
  return pairs;
}
