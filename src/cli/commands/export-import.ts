/**
 * `switchyard export` and `switchyard import`: move a topic's history between routers — for
 * example from the embedded engine to NATS JetStream — through the public API, so they work
 * between any two engines and versions. Export writes the stored events as JSON Lines (in
 * offset order); import publishes them in that order with their own `id`, `source`, `time`
 * and `partitionkey`, dropping the router's metadata (`offset`, `topic`, `appendedat`,
 * `subjectversion`, `deadletter*`): the target assigns new offsets and append times. Re-running an import inside the target's
 * dedupe window stores nothing twice. A `dataschema` naming another router's registry
 * (`…/v1/schemas/{type}/versions/{n}` under another URL than the target's `--url`) is
 * dropped too: the target would refuse it on a topic that enforces schemas, and stamps its
 * own on the events its schemas validate.
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { Command } from "commander";
import type { EventInput } from "../../client/index.js";
import { normalizeRegistryUrl, parseSchemaVersionUrl } from "../../core/dataschema.js";
import { isReservedAttribute } from "../../core/event.js";
import { addConnectionOptions, type ConnectionFlags, connect, withClient } from "../connect.js";
import { formatCount } from "../output.js";
import { parseInteger } from "../parse.js";
import { publishFile } from "./publish-file.js";

const PAGE = 1_000;

interface ExportFlags extends ConnectionFlags {
  readonly out?: string;
  readonly from?: string;
}

export function registerExport(program: Command): void {
  const command = program
    .command("export <topic>")
    .description("write a topic's stored events as JSON Lines (stdout, or --out)")
    .option("--out <file>", "write to this file instead of stdout")
    .option("--from <offset>", "start at this offset (default: the first retained)");
  addConnectionOptions(command).action(async (topic: string, flags: ExportFlags) => {
    const out = flags.out === undefined ? process.stdout : createWriteStream(flags.out);
    const from = flags.from === undefined ? 1 : parseInteger(flags.from, "--from", 1);
    const written = await withClient(flags, async (client) => {
      let next = from;
      let count = 0;
      for (;;) {
        const page = await client.admin.read(topic, { from: next, limit: PAGE });
        if (page.events.length === 0) return count;
        const text = page.events.map((event) => `${JSON.stringify(event)}\n`).join("");
        if (!out.write(text)) await once(out, "drain");
        count += page.events.length;
        next = page.next;
      }
    });
    if (out !== process.stdout) {
      out.end();
      await once(out, "finish");
    }
    process.stderr.write(`exported ${formatCount(written)} events of ${topic}\n`);
  });
}

interface ImportFlags extends ConnectionFlags {
  readonly file: string;
  readonly json?: boolean;
}

export function registerImport(program: Command): void {
  const command = program
    .command("import <topic>")
    .description("publish the events of an export (JSON Lines) to a topic, in order")
    .requiredOption("--file <path>", "the JSON Lines file `switchyard export` wrote")
    .option("--json", "print the summary as JSON");
  addConnectionOptions(command).action(async (topic: string, flags: ImportFlags) => {
    // One batch in flight at a time: the target stores the events in the export's order.
    // The SDK's full retry policy (`retry: {}`), not a one-shot command's: an import is long.
    const client = connect(flags, {
      batch: { maxInFlight: 1 },
      requestTimeoutMs: 60_000,
      retry: {},
    });
    try {
      const target = normalizeRegistryUrl(flags.url);
      await publishFile(client, topic, flags.file, {}, flags.json === true, (event) =>
        withoutRouterMetadata(event, target),
      );
    } finally {
      await client.close();
    }
  });
}

/**
 * A stored event as it was published: the router's metadata removed, and a `dataschema`
 * that names a registry other than `target` (the importing router's URL).
 */
export function withoutRouterMetadata(event: Record<string, unknown>, target: string): EventInput {
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(event))
    if (!isReservedAttribute(name) && !(name === "dataschema" && isForeignSchema(value, target)))
      copy[name] = value;
  return copy as unknown as EventInput;
}

function isForeignSchema(dataschema: unknown, target: string): boolean {
  if (typeof dataschema !== "string") return false;
  const ref = parseSchemaVersionUrl(dataschema);
  return ref !== undefined && ref.registry !== target;
}
