/**
 * `switchyard schema infer TOPIC [--type T]`: a schema proposed by the router from the newest
 * events of a type in a topic (`POST /v1/schemas/{type}/infer`), printed for review; nothing
 * is registered. Without `--type`, one proposal per type among the topic's newest events.
 */
import type { Command } from "commander";
import type { SchemaProposal, SwitchyardClient } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { CliFailure } from "../fail.js";
import { parseInteger } from "../parse.js";
import { parseEventType } from "../schema-args.js";

interface InferFlags extends ConnectionFlags {
  readonly type?: string;
  readonly limit?: string;
  readonly json?: boolean;
}

/** How many of the topic's newest events are read to find its types (one page). */
const TYPE_SCAN = 1_000;
const MAX_SAMPLES = 10_000;

/** The event types among the topic's newest events, by name. */
async function typesIn(client: SwitchyardClient, topic: string): Promise<string[]> {
  const last = (await client.admin.topics.get(topic)).stats?.lastOffset ?? 0;
  const from = Math.max(1, last - TYPE_SCAN + 1);
  const page = await client.admin.read(topic, { from, limit: TYPE_SCAN });
  const types = [...new Set(page.events.map((event) => event.type))].sort();
  if (types.length === 0)
    throw new CliFailure(
      "invalid_request",
      `topic ${topic} holds no events to infer a schema from`,
      "publish some events first, or name the type with --type",
    );
  return types;
}

function summary(type: string, topic: string, proposal: SchemaProposal): string {
  const skipped = proposal.skipped > 0 ? `, ${proposal.skipped} skipped (data not JSON)` : "";
  return `${type}: proposed from ${proposal.samples} events in ${topic} (${proposal.scanned} scanned${skipped})\n`;
}

export function registerInfer(schema: Command): void {
  addConnectionOptions(
    schema
      .command("infer <topic>")
      .description(
        "propose a schema from a topic's newest events of a type, for review; registers nothing",
      )
      .option("--type <type>", "the event type (default: every type among the newest events)")
      .option("--limit <n>", "sample at most this many events per type (router default 1000)")
      .option("--json", "print the whole answer (schema, samples, skipped, scanned)"),
  ).action(async (topic: string, flags: InferFlags) => {
    const only = flags.type === undefined ? undefined : parseEventType(flags.type);
    const limit =
      flags.limit === undefined ? undefined : parseInteger(flags.limit, "--limit", 1, MAX_SAMPLES);
    const proposals = await withClient(flags, async (client) => {
      const types = only === undefined ? await typesIn(client, topic) : [only];
      const options = { topic, ...(limit === undefined ? {} : { limit }) };
      const answers: [string, SchemaProposal][] = [];
      for (const type of types)
        answers.push([type, await client.admin.schemas.infer(type, options)]);
      return answers;
    });
    for (const [type, proposal] of proposals) process.stderr.write(summary(type, topic, proposal));
    const shown = proposals.map(([type, p]) => [type, flags.json ? p : p.schema] as const);
    const output = only === undefined ? Object.fromEntries(shown) : shown[0]?.[1];
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    process.stderr.write(
      "nothing was registered: review, then `switchyard schema add <type> <file>`\n",
    );
  });
}
