/**
 * `switchyard schema …`: the schema registry from the command line (API.md "Schemas").
 * `check` and `diff` also run on a folder of schema files without a router (schema-check.ts);
 * `pull` writes that folder from a router.
 */
import type { Command } from "commander";
import type { SchemaSummary, SwitchyardClient } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { mapLimit } from "../map-limit.js";
import { renderTable } from "../output.js";
import { parseEventType, parseEventTypes, parseMode, readSchemaFile } from "../schema-args.js";
import { writeTypeFolder } from "../schema-folder.js";
import { registerCheck, registerDiff } from "./schema-check.js";
import { registerInfer } from "./schema-infer.js";

interface JsonFlags extends ConnectionFlags {
  readonly json?: boolean;
}

interface PullFlags extends ConnectionFlags {
  readonly types?: string;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function registerAdd(schema: Command): void {
  addConnectionOptions(
    schema
      .command("add <type> <file>")
      .description(
        "register FILE (JSON Schema 2020-12; - for stdin) as TYPE's next version; unchanged when it equals the latest",
      )
      .option("--json", "print JSON"),
  ).action(async (typeArg: string, file: string, flags: JsonFlags) => {
    const type = parseEventType(typeArg);
    const document = readSchemaFile(file);
    const registered = await withClient(flags, (c) => c.admin.schemas.put(type, document));
    if (flags.json) return printJson(registered);
    process.stdout.write(
      registered.created
        ? `registered ${type} version ${registered.version}\n`
        : `${type} unchanged: the schema equals version ${registered.version}\n`,
    );
  });
}

function registerList(schema: Command): void {
  addConnectionOptions(
    schema
      .command("list", { isDefault: true })
      .description("list registered types with their latest version and compatibility mode")
      .option("--json", "print JSON"),
  ).action(async (flags: JsonFlags) => {
    const list = await withClient(flags, (c) => c.admin.schemas.list());
    if (flags.json) return printJson(list);
    if (list.length === 0) {
      process.stdout.write("no schemas registered\n");
      return;
    }
    process.stdout.write(
      `${renderTable<SchemaSummary>(list, [
        { header: "TYPE", value: (s) => s.type },
        { header: "LATEST", value: (s) => String(s.latest), align: "right" },
        { header: "COMPATIBILITY", value: (s) => s.compatibility },
      ])}\n`,
    );
  });
}

function registerConfig(schema: Command): void {
  addConnectionOptions(
    schema
      .command("config <type> <mode>")
      .description(
        "set TYPE's compatibility mode (BACKWARD, FORWARD, FULL, their _TRANSITIVE forms, NONE); later versions are checked under it",
      )
      .option("--json", "print JSON"),
  ).action(async (typeArg: string, modeArg: string, flags: JsonFlags) => {
    const type = parseEventType(typeArg);
    const mode = await parseMode(modeArg, "the mode");
    const config = await withClient(flags, (c) => c.admin.schemas.config(type, mode));
    if (flags.json) return printJson(config);
    process.stdout.write(`${config.type}: compatibility ${config.compatibility}\n`);
  });
}

interface PulledType {
  readonly type: string;
  readonly compatibility: string;
  readonly versions: { readonly version: number; readonly schema: unknown }[];
}

async function pullType(client: SwitchyardClient, type: string): Promise<PulledType> {
  const details = await client.admin.schemas.get(type);
  const versions = await mapLimit(details.versions, 4, async ({ version }) => ({
    version,
    schema: (await client.admin.schemas.version(type, version)).schema,
  }));
  return { type, compatibility: details.compatibility, versions };
}

function registerPull(schema: Command): void {
  addConnectionOptions(
    schema
      .command("pull <dir>")
      .description(
        "write every type's versions as DIR/<type>/<version>.json and its mode as DIR/<type>/config.json, for `check --dir` without a router",
      )
      .option("--types <a,b>", "only these types"),
  ).action(async (dir: string, flags: PullFlags) => {
    const only = flags.types === undefined ? undefined : parseEventTypes(flags.types);
    // Everything is read before anything is written: a failure leaves the folder as it was.
    const pulled = await withClient(flags, async (client) => {
      const types = only ?? (await client.admin.schemas.list()).map((s) => s.type);
      return mapLimit(types, 4, (type) => pullType(client, type));
    });
    let fresh = 0;
    for (const { type, versions, compatibility } of pulled)
      fresh += writeTypeFolder(dir, parseEventType(type), versions, compatibility);
    const total = pulled.reduce((n, t) => n + t.versions.length, 0);
    process.stdout.write(
      `wrote ${pulled.length} types, ${total} versions (${fresh} new) to ${dir}\n`,
    );
  });
}

export function registerSchema(program: Command): void {
  const schema = program
    .command("schema")
    .alias("schemas")
    .description("the schema registry: add, check, diff, list, configure and infer event schemas");
  registerList(schema);
  registerAdd(schema);
  registerCheck(schema);
  registerDiff(schema);
  registerConfig(schema);
  registerPull(schema);
  registerInfer(schema);
}
