/**
 * `schema check` and `schema diff`, against a router or, with `--dir DIR`, against a folder
 * of schema files (schema-folder.ts) with no router at all: the offline forms run the
 * registry's own validation and compatibility checker (`checkSchemaChange` of the package
 * entry), so a CI job gets the answer the registry would give.
 */
import type { Command } from "commander";
import type { CompatibilityMode, JsonSchema } from "../../client/index.js";
import { isSwitchyardError } from "../../core/errors.js";
import type { CompatibilityResult } from "../../index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { CliFailure, pointerLines, usage } from "../fail.js";
import { parseEventType, parseMode, parseVersion, readSchemaFile } from "../schema-args.js";
import { diffSchemas, renderChanges, type SchemaChange, sameJson } from "../schema-diff.js";
import { historyFor, readTypeFolder, versionFile } from "../schema-folder.js";

interface OfflineFlags extends ConnectionFlags {
  readonly dir?: string;
  readonly compatibility?: string;
  readonly json?: boolean;
}

/**
 * The answer of a check: `after` is the latest version the candidate follows (0: none);
 * `unchanged` when the candidate equals it (registering it would store nothing).
 */
interface Verdict extends CompatibilityResult {
  readonly type: string;
  readonly compatibility: CompatibilityMode | null;
  readonly after: number;
  readonly unchanged: boolean;
}

const FIRST_VERSION = "its first version is accepted whatever its shape";

async function modeFor(flags: OfflineFlags, configured: string | undefined) {
  if (flags.compatibility !== undefined) return parseMode(flags.compatibility, "--compatibility");
  if (configured !== undefined) return parseMode(configured, "config.json's compatibility");
  return (await import("../../index.js")).DEFAULT_COMPATIBILITY;
}

/** Every file must be a schema the registry accepts; the first that is not fails, named. */
async function assertValid(files: readonly { path: string; schema: unknown }[]) {
  const { validateSchema } = await import("../../index.js");
  for (const { path, schema } of files) {
    const errors = validateSchema(schema);
    if (errors.length > 0)
      throw new CliFailure("invalid_schema", `${path} is not a valid schema`, "", { errors });
  }
}

async function checkOffline(dir: string, type: string, file: string, flags: OfflineFlags) {
  const candidate = readSchemaFile(file);
  const folder = readTypeFolder(dir, type);
  const history = historyFor(folder, file);
  await assertValid([...history, { path: file, schema: candidate }]);
  const mode = await modeFor(flags, folder.compatibility);
  const { checkSchemaChange } = await import("../../index.js");
  const result = checkSchemaChange(
    history.map((v) => v.schema as JsonSchema),
    candidate,
    mode,
  );
  const latest = history.at(-1);
  const unchanged = latest !== undefined && sameJson(latest.schema, candidate);
  return { type, compatibility: mode, after: latest?.version ?? 0, unchanged, ...result };
}

async function checkOnline(type: string, file: string, flags: OfflineFlags): Promise<Verdict> {
  if (flags.compatibility !== undefined)
    throw usage(
      "--compatibility applies with --dir only",
      "a router checks under the type's own mode (see `switchyard schema config`)",
    );
  const candidate = readSchemaFile(file);
  return withClient(flags, async (client) => {
    const details = await client.admin.schemas.get(type).catch((error: unknown) => {
      if (isSwitchyardError(error) && error.code === "schema_not_found") return undefined;
      throw error;
    });
    if (details === undefined)
      return {
        type,
        compatibility: null,
        after: 0,
        unchanged: false,
        compatible: true,
        errors: [],
      };
    const result = await client.admin.schemas.check(type, candidate);
    const after = details.versions.at(-1)?.version ?? 0;
    const unchanged = sameJson(details.schema, candidate);
    return { type, compatibility: details.compatibility, after, unchanged, ...result };
  });
}

function report(file: string, verdict: Verdict, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
  else if (verdict.after === 0)
    process.stdout.write(
      `compatible: ${verdict.type} has no version yet, so ${file} would be its version 1 (${FIRST_VERSION})\n`,
    );
  else if (verdict.unchanged)
    process.stdout.write(
      `unchanged: ${file} equals ${verdict.type} version ${verdict.after} (adding it would store nothing)\n`,
    );
  else if (verdict.compatible)
    process.stdout.write(
      `compatible: ${file} as ${verdict.type} version ${verdict.after + 1} (${verdict.compatibility}, after version ${verdict.after})\n`,
    );
  if (!verdict.compatible)
    throw new CliFailure(
      "schema_incompatible",
      `${file} breaks ${verdict.type}'s ${verdict.compatibility} compatibility (after version ${verdict.after})`,
      "",
      { errors: verdict.errors },
    );
}

export function registerCheck(schema: Command): void {
  addConnectionOptions(
    schema
      .command("check <type> <file>")
      .description(
        "would FILE be accepted as TYPE's next version? exit 1 listing what breaks; --dir checks against schema files, no router",
      )
      .option("--dir <dir>", "check against DIR/<type>/<version>.json instead of a router")
      .option(
        "--compatibility <mode>",
        "with --dir: the mode (default: config.json, else BACKWARD)",
      )
      .option("--json", "print the verdict as JSON"),
  ).action(async (typeArg: string, file: string, flags: OfflineFlags) => {
    const type = parseEventType(typeArg);
    const verdict =
      flags.dir === undefined
        ? await checkOnline(type, file, flags)
        : await checkOffline(flags.dir, type, file, flags);
    report(file, verdict, flags.json);
  });
}

interface DiffInputs {
  readonly before: JsonSchema;
  readonly after: JsonSchema;
  readonly mode: CompatibilityMode;
}

async function diffOffline(dir: string, type: string, v1: number, v2: number, flags: OfflineFlags) {
  const folder = readTypeFolder(dir, type);
  const before = versionFile(folder, dir, v1);
  const after = versionFile(folder, dir, v2);
  await assertValid([before, after]);
  const mode = await modeFor(flags, folder.compatibility);
  return { before: before.schema as JsonSchema, after: after.schema as JsonSchema, mode };
}

async function diffOnline(type: string, v1: number, v2: number, flags: OfflineFlags) {
  const chosen =
    flags.compatibility === undefined
      ? undefined
      : await parseMode(flags.compatibility, "--compatibility");
  return withClient(flags, async (client): Promise<DiffInputs> => {
    const [details, before, after] = await Promise.all([
      client.admin.schemas.get(type),
      client.admin.schemas.version(type, v1),
      client.admin.schemas.version(type, v2),
    ]);
    return { before: before.schema, after: after.schema, mode: chosen ?? details.compatibility };
  });
}

/**
 * Whether V2 keeps the mode towards V1 alone: the mode's non-transitive form. The checker
 * names a history entry by its position (`version i + 1`) and, non-transitively, compares
 * with the last one only, so V1 goes at position V1 behind placeholders never compared.
 */
async function verdictBetween(v1: number, inputs: DiffInputs) {
  const mode = inputs.mode.replace(/_TRANSITIVE$/, "") as CompatibilityMode;
  const history: JsonSchema[] = [...Array.from({ length: v1 - 1 }, () => true), inputs.before];
  const { checkSchemaChange } = await import("../../index.js");
  return { mode, result: checkSchemaChange(history, inputs.after, mode) };
}

function printDiff(
  title: string,
  changes: readonly SchemaChange[],
  mode: CompatibilityMode,
  result: CompatibilityResult,
): void {
  const lines = [
    `${title}: ${changes.length === 0 ? "no changes" : `${changes.length} changes`}`,
    ...renderChanges(changes),
    `${mode}: ${result.compatible ? "compatible" : "incompatible"}`,
    ...pointerLines(result.errors),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

export function registerDiff(schema: Command): void {
  addConnectionOptions(
    schema
      .command("diff <type> <v1> <v2>")
      .description(
        "what changed from version V1 to V2 (added, removed, changed keywords by pointer) and whether V2 is compatible with V1",
      )
      .option("--dir <dir>", "read the versions from DIR/<type>/<version>.json instead of a router")
      .option("--compatibility <mode>", "judge under this mode (default: the type's)")
      .option("--json", "print JSON"),
  ).action(async (typeArg: string, v1Arg: string, v2Arg: string, flags: OfflineFlags) => {
    const type = parseEventType(typeArg);
    const v1 = parseVersion(v1Arg, "V1");
    const v2 = parseVersion(v2Arg, "V2");
    const inputs =
      flags.dir === undefined
        ? await diffOnline(type, v1, v2, flags)
        : await diffOffline(flags.dir, type, v1, v2, flags);
    const changes = diffSchemas(inputs.before, inputs.after);
    const { mode, result } = await verdictBetween(v1, inputs);
    if (flags.json) {
      const answer = { type, from: v1, to: v2, changes, compatibility: mode, ...result };
      process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    } else printDiff(`${type} version ${v1} → version ${v2}`, changes, mode, result);
  });
}
