/**
 * `switchyard codegen --out src/events.ts`: TypeScript types for the registered event types
 * (their latest versions) and an `EventMap` for `createClient<EventMap>()`. The file is
 * written whole or not at all (a temporary file renamed over it).
 */
import type { Command } from "commander";
import type { SwitchyardClient } from "../../client/index.js";
import type { TypeSchema } from "../codegen/event-types.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { CliFailure } from "../fail.js";
import { mapLimit } from "../map-limit.js";
import { parseEventTypes } from "../schema-args.js";
import { writeWhole } from "../write-whole.js";

interface CodegenFlags extends ConnectionFlags {
  readonly out: string;
  readonly types?: string;
}

async function latestSchemas(
  client: SwitchyardClient,
  only: readonly string[] | undefined,
): Promise<TypeSchema[]> {
  const types = only ?? (await client.admin.schemas.list()).map((s) => s.type);
  if (types.length === 0)
    throw new CliFailure(
      "schema_not_found",
      `no schemas are registered at ${client.url}: there is nothing to generate`,
      "register one first with `switchyard schema add <type> <file>`",
    );
  return mapLimit(types, 4, async (type) => {
    const details = await client.admin.schemas.get(type);
    const version = details.versions.at(-1)?.version ?? 0;
    return { type, version, schema: details.schema };
  });
}

export function registerCodegen(program: Command): void {
  addConnectionOptions(
    program
      .command("codegen")
      .description(
        "write TypeScript types for the registered event types and an EventMap for createClient<EventMap>()",
      )
      .requiredOption("--out <file>", "the file to write, e.g. src/events.ts")
      .option("--types <a,b>", "only these types (default: every registered type)"),
  ).action(async (flags: CodegenFlags) => {
    const only = flags.types === undefined ? undefined : parseEventTypes(flags.types);
    // Loaded here, not with the CLI: the generator (with prettier) costs every other command,
    // `serve` included, ~0.2 s of CPU at start.
    const { generateEventTypes } = await import("../codegen/event-types.js");
    const { types, text } = await withClient(flags, async (client) => {
      const types = await latestSchemas(client, only);
      return { types, text: await generateEventTypes(types, { registry: client.url }) };
    });
    writeWhole(flags.out, text, "check --out: its folder must exist");
    const list = types.map((t) => `${t.type} v${t.version}`).join(", ");
    process.stdout.write(`wrote ${flags.out}: ${types.length} types (${list})\n`);
  });
}
