import type { Command } from "commander";
import type { EventInput } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, connect } from "../connect.js";
import { usage } from "../fail.js";
import { collect, parsePairs, readJsonArgument } from "../parse.js";
import { publishFile } from "./publish-file.js";

interface PublishFlags extends ConnectionFlags {
  readonly type?: string;
  readonly source: string;
  readonly data?: string;
  readonly key?: string;
  readonly id?: string;
  readonly subject?: string;
  readonly attr?: string[];
  readonly file?: string;
  readonly json?: boolean;
}

export function registerPublish(program: Command): void {
  const command = program
    .command("publish <topic>")
    .description("publish one event, or every line of a JSON Lines file (--file)")
    .option("--type <type>", "event type, e.g. order.placed (required for one event)")
    .option("--source <source>", "event source", "switchyard-cli")
    .option("--data <json>", "event data: JSON, @file, or @- for standard input")
    .option("--key <key>", "ordering key (the partitionkey attribute)")
    .option("--id <id>", "event id (default: a random UUID)")
    .option("--subject <subject>", "event subject")
    .option("--attr <name=value>", "extension attribute (repeatable)", collect)
    .option(
      "--file <path>",
      "publish each line: a CloudEvent, or { type, data, ... } using --type/--source as defaults",
    )
    .option("--json", "print the result as JSON");
  addConnectionOptions(command).action(async (topic: string, flags: PublishFlags) => {
    const client = connect(flags, { source: flags.source });
    try {
      if (flags.file)
        await publishFile(client, topic, flags.file, defaultsFrom(flags), flags.json === true);
      else await publishOne(client, topic, flags);
    } finally {
      await client.close();
    }
  });
}

function defaultsFrom(flags: PublishFlags): Partial<EventInput> {
  return {
    ...(flags.type ? { type: flags.type } : {}),
    source: flags.source,
    ...(flags.key ? { partitionkey: flags.key } : {}),
    ...parsePairs(flags.attr ?? [], "--attr"),
  };
}

async function publishOne(
  client: ReturnType<typeof connect>,
  topic: string,
  flags: PublishFlags,
): Promise<void> {
  if (!flags.type)
    throw usage(
      "--type is required",
      "e.g. switchyard publish orders --type order.placed --data '{\"id\":1}'",
    );
  const event: EventInput = {
    ...parsePairs(flags.attr ?? [], "--attr"),
    type: flags.type,
    source: flags.source,
    id: flags.id,
    subject: flags.subject,
    partitionkey: flags.key,
    data: flags.data === undefined ? undefined : readJsonArgument(flags.data, "--data"),
  };
  const result = await client.publish(topic, event);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ topic, ...result })}\n`);
    return;
  }
  const what = result.duplicate
    ? `duplicate of offset ${result.offset} (same source and id seen within the dedupe window)`
    : `offset ${result.offset}`;
  process.stdout.write(`published ${result.id} to ${topic} at ${what}\n`);
}
