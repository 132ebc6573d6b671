import type { Command } from "commander";
import type { Filter, Subscription, SubscriptionSettings } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { usage } from "../fail.js";
import { mapLimit } from "../map-limit.js";
import { formatCount, formatDuration, renderPairs, renderTable } from "../output.js";
import {
  collect,
  parseDuration,
  parseInteger,
  parsePairs,
  parsePosition,
  readJsonArgument,
} from "../parse.js";
import {
  addPushTuningOptions,
  type PushTuningFlags,
  pushHealthPairs,
  pushTuning,
  registerPauseResume,
} from "./subs-push.js";

interface UrlFlags extends ConnectionFlags {
  readonly json?: boolean;
}

interface CreateFlags extends UrlFlags, PushTuningFlags {
  readonly topic: string;
  readonly start?: string;
  readonly filter?: string;
  readonly ackTimeout?: string;
  readonly maxAttempts?: string;
  readonly backoffInitial?: string;
  readonly backoffMax?: string;
  readonly backoffMultiplier?: string;
  readonly deadLetterTopic?: string;
  readonly ordering?: string;
  readonly maxInFlight?: string;
  readonly pushUrl?: string;
  readonly pushHeader?: string[];
  readonly pushTimeout?: string;
  readonly pushMode?: string;
  readonly secret?: string[];
}

export function registerSubs(program: Command): void {
  const subs = program
    .command("subs")
    .description("list, inspect, create and delete subscriptions");
  addConnectionOptions(
    subs
      .command("list", { isDefault: true })
      .description("list subscriptions with lag and in-flight counts")
      .option("--json", "print JSON"),
  ).action(async (flags: UrlFlags) => listSubs(flags));
  addConnectionOptions(
    subs
      .command("get <name>")
      .description("show a subscription's settings and stats")
      .option("--json", "print JSON"),
  ).action(async (name: string, flags: UrlFlags) => {
    const sub = await withClient(flags, (c) => c.admin.subscriptions.get(name));
    process.stdout.write(
      flags.json ? `${JSON.stringify(sub, null, 2)}\n` : `${describeSub(sub)}\n`,
    );
  });
  addConnectionOptions(
    addPushTuningOptions(
      subs
        .command("create <name>")
        .description("create a subscription, or update one (its position is kept)")
        .requiredOption("--topic <topic>", "the topic to read")
        .option(
          "--start <position>",
          "earliest | latest | <offset> | <time> (default latest; creation only)",
        )
        .option("--filter <json>", "CloudEvents filter: JSON, @file or @-")
        .option("--ack-timeout <duration>", "lease length (default 30s)")
        .option("--max-attempts <n>", "deliveries before dead-lettering (default 10)")
        .option("--backoff-initial <duration>", "first redelivery delay (default 1s)")
        .option("--backoff-max <duration>", "longest redelivery delay (default 10m)")
        .option("--backoff-multiplier <x>", "delay growth per attempt (default 2)")
        .option("--dead-letter-topic <topic>", "default {topic}.{name}.dlq")
        .option("--ordering <mode>", "none | key (one event per partitionkey in flight)")
        .option("--max-in-flight <n>", "deliveries out at once (default 1000)")
        .option("--push-url <url>", "push to this endpoint instead of being pulled")
        .option("--push-header <name=value>", "header sent with each push (repeatable)", collect)
        .option("--push-timeout <duration>", "push request timeout (default 10s)")
        .option("--push-mode <mode>", "binary | structured (default binary)")
        .option("--secret <whsec>", "webhook signing secret (repeatable)", collect)
        .option("--json", "print JSON"),
    ),
  ).action(async (name: string, flags: CreateFlags) => {
    const settings = subscriptionSettings(flags);
    const result = await withClient(flags, (c) => c.admin.subscriptions.put(name, settings));
    if (flags.json) process.stdout.write(`${JSON.stringify(result.subscription)}\n`);
    else
      process.stdout.write(
        `${result.created ? "created" : "updated"} subscription ${name} on ${flags.topic}\n`,
      );
  });
  registerPauseResume(subs);
  addConnectionOptions(subs.command("delete <name>").description("delete a subscription")).action(
    async (name: string, flags: UrlFlags) => {
      await withClient(flags, (c) => c.admin.subscriptions.delete(name));
      process.stdout.write(`deleted subscription ${name}\n`);
    },
  );
}

function subscriptionSettings(flags: CreateFlags): SubscriptionSettings {
  if (flags.ordering !== undefined && flags.ordering !== "none" && flags.ordering !== "key")
    throw usage(
      `--ordering ${JSON.stringify(flags.ordering)} is not none or key`,
      "use --ordering key for per-key order",
    );
  const backoff = {
    ...(flags.backoffInitial
      ? { initialMs: parseDuration(flags.backoffInitial, "--backoff-initial") }
      : {}),
    ...(flags.backoffMax ? { maxMs: parseDuration(flags.backoffMax, "--backoff-max") } : {}),
    ...(flags.backoffMultiplier ? { multiplier: parseMultiplier(flags.backoffMultiplier) } : {}),
  };
  return {
    topic: flags.topic,
    ...(flags.start ? { start: parsePosition(flags.start, "--start") } : {}),
    ...(flags.filter ? { filter: readJsonArgument(flags.filter, "--filter") as Filter } : {}),
    ...(flags.ackTimeout ? { ackTimeoutMs: parseDuration(flags.ackTimeout, "--ack-timeout") } : {}),
    ...(flags.maxAttempts
      ? { maxAttempts: parseInteger(flags.maxAttempts, "--max-attempts", 1) }
      : {}),
    ...(Object.keys(backoff).length > 0 ? { backoff } : {}),
    ...(flags.deadLetterTopic ? { deadLetterTopic: flags.deadLetterTopic } : {}),
    ...(flags.ordering ? { ordering: flags.ordering as "none" | "key" } : {}),
    ...(flags.maxInFlight
      ? { maxInFlight: parseInteger(flags.maxInFlight, "--max-in-flight", 1) }
      : {}),
    ...(flags.pushUrl ? { push: pushSettings(flags, flags.pushUrl) } : {}),
  };
}

function parseMultiplier(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1)
    throw usage(
      `--backoff-multiplier ${JSON.stringify(value)} is not a number ≥ 1`,
      "e.g. --backoff-multiplier 2",
    );
  return n;
}

function pushSettings(flags: CreateFlags, url: string): NonNullable<SubscriptionSettings["push"]> {
  if (
    flags.pushMode !== undefined &&
    flags.pushMode !== "binary" &&
    flags.pushMode !== "structured"
  )
    throw usage(
      `--push-mode ${JSON.stringify(flags.pushMode)} is not binary or structured`,
      "use --push-mode binary or structured",
    );
  return {
    url,
    ...(flags.pushHeader ? { headers: parsePairs(flags.pushHeader, "--push-header") } : {}),
    ...(flags.pushTimeout ? { timeoutMs: parseDuration(flags.pushTimeout, "--push-timeout") } : {}),
    ...(flags.pushMode ? { mode: flags.pushMode as "binary" | "structured" } : {}),
    ...(flags.secret ? { secrets: flags.secret } : {}),
    ...pushTuning(flags),
  };
}

async function listSubs(flags: UrlFlags): Promise<void> {
  const subs = await withClient(flags, async (client) => {
    const listed = await client.admin.subscriptions.list();
    return mapLimit(listed, 8, (s) =>
      s.stats ? Promise.resolve(s) : client.admin.subscriptions.get(s.name),
    );
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(subs, null, 2)}\n`);
    return;
  }
  if (subs.length === 0) {
    process.stdout.write(
      "no subscriptions yet (create one with `switchyard subs create <name> --topic <topic>`)\n",
    );
    return;
  }
  const table = renderTable(subs, [
    { header: "SUBSCRIPTION", value: (s) => s.name },
    { header: "TOPIC", value: (s) => s.topic },
    { header: "KIND", value: (s) => (s.push ? `push${s.state ? ` (${s.state})` : ""}` : "pull") },
    { header: "LAG", value: (s) => formatCount(s.stats?.lag ?? 0), align: "right" },
    { header: "IN FLIGHT", value: (s) => formatCount(s.stats?.inFlight ?? 0), align: "right" },
    { header: "DEAD", value: (s) => formatCount(s.stats?.deadLettered ?? 0), align: "right" },
    { header: "OLDEST UNACKED", value: (s) => oldestUnacked(s) },
  ]);
  process.stdout.write(`${table}\n`);
}

/** "-" when nothing is in flight (whatever age the router reports then). */
function oldestUnacked(sub: Subscription): string {
  const stats = sub.stats;
  if (!stats || stats.inFlight === 0 || stats.oldestUnackedAgeMs === null) return "-";
  return formatDuration(stats.oldestUnackedAgeMs);
}

function describeSub(sub: Subscription): string {
  const stats = sub.stats;
  const pairs: [string, string][] = [
    ["subscription", sub.name],
    ["topic", sub.topic],
    ["kind", sub.push ? `push to ${sub.push.url}${sub.state ? ` (${sub.state})` : ""}` : "pull"],
    ["filter", sub.filter ? JSON.stringify(sub.filter) : "none"],
    ["ordering", sub.ordering],
    ["ack timeout", formatDuration(sub.ackTimeoutMs)],
    ["max attempts", String(sub.maxAttempts)],
    [
      "backoff",
      `${formatDuration(sub.backoff.initialMs)} ×${sub.backoff.multiplier} up to ${formatDuration(sub.backoff.maxMs)}`,
    ],
    ["dead letters", sub.deadLetterTopic],
    ["max in flight", formatCount(sub.maxInFlight)],
    ...pushHealthPairs(sub),
  ];
  if (stats)
    pairs.push(
      ["lag", formatCount(stats.lag)],
      ["in flight", formatCount(stats.inFlight)],
      ["delivered", formatCount(stats.delivered)],
      ["acked", formatCount(stats.acked)],
      ["dead-lettered", formatCount(stats.deadLettered)],
      ["oldest unacked", oldestUnacked(sub)],
    );
  return renderPairs(pairs);
}
