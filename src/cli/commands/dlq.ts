import { hostname, userInfo } from "node:os";
import type { Command } from "commander";
import type { Filter, StoredEvent, SwitchyardClient } from "../../client/index.js";
import { SwitchyardClientError } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { CliFailure } from "../fail.js";
import { formatCount, formatTime, ProgressLine, progressBar, renderTable } from "../output.js";
import { parseInteger, readJsonArgument } from "../parse.js";

interface ListFlags extends ConnectionFlags {
  readonly from?: string;
  readonly limit: string;
  readonly json?: boolean;
}

interface RedriveFlags extends ConnectionFlags {
  readonly ids?: string;
  readonly filter?: string;
  readonly limit?: string;
  readonly dryRun?: boolean;
  readonly pollMs: string;
  readonly rate?: string;
  readonly chunk?: string;
}

export function registerDlq(program: Command): void {
  const dlq = program
    .command("dlq")
    .description("inspect and redrive a subscription's dead letters");
  addConnectionOptions(
    dlq
      .command("list <subscription>")
      .description("list the events the subscription dead-lettered, oldest first")
      .option("--from <offset>", "start at this offset of the dead-letter topic")
      .option("--limit <n>", "show at most this many", "20")
      .option("--json", "print JSON lines"),
  ).action(async (name: string, flags: ListFlags) => {
    await withClient(flags, (client) => listDeadLetters(client, name, flags));
  });
  addConnectionOptions(
    dlq
      .command("redrive <subscription>")
      .description("deliver dead-lettered events to the subscription again, and wait until done")
      .option("--ids <ids>", "only these event ids (comma-separated)")
      .option("--filter <json>", "only events matching this filter: JSON, @file or @-")
      .option("--limit <n>", "at most this many events")
      .option("--dry-run", "count what would be redriven; move nothing")
      .option("--rate <n>", "move at most n events per second (default: unlimited)")
      .option("--chunk <n>", "events moved per step (default 1000)")
      .option("--poll-ms <ms>", "how often to check the redrive's progress", "200"),
  ).action(async (name: string, flags: RedriveFlags) => {
    await withClient(flags, (client) => redrive(client, name, flags));
  });
}

async function listDeadLetters(
  client: SwitchyardClient,
  name: string,
  flags: ListFlags,
): Promise<void> {
  const limit = parseInteger(flags.limit, "--limit", 1, 100_000);
  const { deadLetterTopic } = await client.admin.subscriptions.get(name);
  const events: StoredEvent[] = [];
  let from = flags.from === undefined ? 1 : parseInteger(flags.from, "--from", 1);
  let more = true;
  while (more && events.length < limit) {
    const page = await readOrEmpty(client, deadLetterTopic, from);
    // A shared dead-letter topic may hold other subscriptions' events.
    events.push(...page.events.filter((e) => (e.deadlettersubscription ?? name) === name));
    more = page.events.length > 0;
    from = page.next;
  }
  const shown = events.slice(0, limit);
  if (flags.json) {
    for (const event of shown) process.stdout.write(`${JSON.stringify(event)}\n`);
    return;
  }
  if (shown.length === 0) {
    process.stdout.write(`no dead letters for ${name} (topic ${deadLetterTopic})\n`);
    return;
  }
  const table = renderTable(shown, [
    { header: "OFFSET", value: (e) => String(e.offset), align: "right" },
    { header: "DEAD-LETTERED", value: (e) => formatTime(e.appendedat) },
    { header: "TYPE", value: (e) => e.type },
    { header: "ID", value: (e) => e.id },
    { header: "ATTEMPTS", value: (e) => String(e.deadletterattempts ?? "-"), align: "right" },
    { header: "REASON", value: (e) => String(e.deadletterreason ?? "-") },
  ]);
  process.stdout.write(`${table}\n`);
  const last = shown.at(-1);
  if (events.length > limit && last)
    process.stdout.write(`more: switchyard dlq list ${name} --from ${last.offset + 1}\n`);
}

async function readOrEmpty(client: SwitchyardClient, topic: string, from: number) {
  try {
    return await client.admin.read(topic, { from, limit: 1_000 });
  } catch (error) {
    // The dead-letter topic appears with the first dead letter.
    if (error instanceof SwitchyardClientError && error.code === "topic_not_found")
      return { events: [], next: from };
    throw error;
  }
}

async function redrive(client: SwitchyardClient, name: string, flags: RedriveFlags): Promise<void> {
  const ids = flags.ids
    ?.split(",")
    .map((id) => id.trim())
    .filter(Boolean);
  const request = {
    ...(ids && ids.length > 0 ? { ids } : {}),
    ...(flags.filter ? { filter: readJsonArgument(flags.filter, "--filter") as Filter } : {}),
    ...(flags.limit ? { limit: parseInteger(flags.limit, "--limit", 1) } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.rate ? { ratePerSecond: parseInteger(flags.rate, "--rate", 1) } : {}),
    ...(flags.chunk ? { chunkSize: parseInteger(flags.chunk, "--chunk", 1, 10_000) } : {}),
    actor: actorName(),
  };
  const started = await client.admin.redrive(name, request);
  const counts = `${formatCount(started.matched)} events (${formatCount(started.keys)} ordering keys)`;
  if (flags.dryRun) {
    process.stdout.write(`dry run: would redrive ${counts} to ${name}\n`);
    return;
  }
  if (started.redrive === undefined || started.matched === 0) {
    process.stdout.write(`nothing to redrive for ${name}\n`);
    return;
  }
  await follow(client, name, started.redrive, parseInteger(flags.pollMs, "--poll-ms", 10));
}

async function follow(
  client: SwitchyardClient,
  name: string,
  id: string,
  pollMs: number,
): Promise<void> {
  const progress = new ProgressLine(process.stderr);
  for (;;) {
    const status = await client.admin.redriveStatus(name, id);
    const fraction = status.matched === 0 ? 1 : status.moved / status.matched;
    progress.update(
      `${progressBar(fraction)} ${formatCount(status.moved)}/${formatCount(status.matched)} redriven`,
      true,
    );
    if (status.state === "done") {
      progress.clear();
      process.stdout.write(
        `redrove ${formatCount(status.moved)} events to ${name} (redrive ${id})\n`,
      );
      return;
    }
    if (status.state === "failed") {
      progress.clear();
      throw new CliFailure(
        "internal",
        `redrive ${id} failed after moving ${formatCount(status.moved)} of ${formatCount(status.matched)} events`,
        "check the router's log; running the redrive again moves only what is left",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Who runs the CLI, for the redrive's audit record. */
function actorName(): string {
  let user = process.env.USER ?? "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers): keep $USER
  }
  return `${user}@${hostname()}`;
}
