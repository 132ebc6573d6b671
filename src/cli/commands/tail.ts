import type { Command } from "commander";
import type { StoredEvent, SwitchyardClient } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, connect } from "../connect.js";
import { jsonEvent, prettyEvent } from "../event-format.js";
import { usage } from "../fail.js";
import { painter } from "../output.js";
import { parseInteger, parseTime } from "../parse.js";

export interface TailFlags extends ConnectionFlags {
  readonly sub?: string;
  readonly from?: string;
  readonly since?: string;
  readonly count?: string;
  readonly follow: boolean;
  readonly json?: boolean;
  readonly concurrency: string;
  readonly pollMs: string;
}

export type Printer = (event: StoredEvent, attempt?: number) => void;

export function registerTail(program: Command): void {
  const command = program
    .command("tail [topic]")
    .description(
      "follow a topic's log (from the end by default), or consume a subscription with --sub",
    )
    .option("--sub <name>", "consume this subscription instead, acking each event once printed")
    .option("--from <offset>", "start at this offset (topics)")
    .option("--since <time>", "start at the first event appended at or after this time (topics)")
    .option("-n, --count <n>", "exit after this many events")
    .option("--no-follow", "exit at the end of the log instead of waiting (topics)")
    .option("--json", "print JSON lines instead of the pretty format")
    .option("--concurrency <n>", "events handled at once (subscriptions)", "1")
    .option("--poll-ms <ms>", "how often to look for new events at the end of a topic", "250");
  addConnectionOptions(command).action(async (topic: string | undefined, flags: TailFlags) => {
    if ((topic === undefined) === (flags.sub === undefined))
      throw usage(
        "name a topic or --sub <subscription>, not both or neither",
        "e.g. switchyard tail orders, or switchyard tail --sub mailer",
      );
    if (flags.from !== undefined && flags.since !== undefined)
      throw usage("--from and --since cannot be combined", "pick one starting point");
    const limit =
      flags.count === undefined
        ? Number.POSITIVE_INFINITY
        : parseInteger(flags.count, "--count", 1);
    const paint = painter(process.stdout);
    const print: Printer = (event, attempt) =>
      process.stdout.write(
        flags.json ? jsonEvent(event, attempt) : prettyEvent(event, paint, attempt),
      );
    const client = connect(flags);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      if (topic !== undefined) await tailTopic(client, topic, flags, limit, print, stop.signal);
      else await tailSubscription(client, flags.sub ?? "", flags, limit, print, stop.signal);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await client.close();
    }
  });
}

/** Prints a topic's events from `--from`/`--since` (default: the end), following unless `--no-follow`. */
export async function tailTopic(
  client: SwitchyardClient,
  topic: string,
  flags: TailFlags,
  limit: number,
  print: Printer,
  signal: AbortSignal,
): Promise<void> {
  const pollMs = parseInteger(flags.pollMs, "--poll-ms", 10);
  let since = flags.since === undefined ? undefined : parseTime(flags.since, "--since");
  let from = flags.from === undefined ? undefined : parseInteger(flags.from, "--from", 1);
  if (from === undefined && since === undefined) {
    const stats = (await client.admin.topics.get(topic)).stats;
    from = (stats?.lastOffset ?? 0) + 1;
  }
  let printed = 0;
  while (!signal.aborted) {
    const batch = Math.min(1_000, limit - printed);
    const page = await client.admin.read(
      topic,
      since === undefined ? { from: from ?? 1, limit: batch } : { since, limit: batch },
    );
    since = undefined;
    for (const event of page.events) print(event);
    printed += page.events.length;
    from = page.next;
    if (printed >= limit) return;
    if (page.events.length === 0) {
      if (!flags.follow) return;
      await delay(pollMs, signal);
    }
  }
}

async function tailSubscription(
  client: SwitchyardClient,
  name: string,
  flags: TailFlags,
  limit: number,
  print: Printer,
  signal: AbortSignal,
): Promise<void> {
  let printed = 0;
  let connected = false;
  const enough = new AbortController();
  const subscriber = client.subscribe(
    name,
    (delivery) => {
      // Past the count: hand it straight back for the next consumer, unprinted and unacked.
      if (printed >= limit) return delivery.nack(0);
      printed++;
      print(delivery.event, delivery.attempt);
      if (printed >= limit) enough.abort();
      return undefined;
    },
    {
      concurrency: parseInteger(flags.concurrency, "--concurrency", 1, 1_000),
      onError: (error) => {
        if (connected)
          process.stderr.write(
            `warning: ${error instanceof Error ? error.message : String(error)}\n`,
          );
      },
    },
  );
  await subscriber.ready;
  connected = true;
  const stopped = AbortSignal.any([signal, enough.signal]);
  await Promise.race([
    subscriber.closed,
    new Promise((resolve) => stopped.addEventListener("abort", resolve)),
  ]);
  await subscriber.close({ timeoutMs: 5_000 });
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
