/** `switchyard asyncapi`: the router's AsyncAPI 3.0 document (`GET /v1/asyncapi.json`). */
import type { Command } from "commander";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { writeWhole } from "../write-whole.js";

interface AsyncApiFlags extends ConnectionFlags {
  readonly out?: string;
}

function countOf(document: Record<string, unknown>, member: string): number {
  const value = document[member];
  return typeof value === "object" && value !== null ? Object.keys(value).length : 0;
}

export function registerAsyncApi(program: Command): void {
  const command = program
    .command("asyncapi")
    .description(
      "print the router's AsyncAPI 3.0 document: the topics and subscriptions your key may see, with their event types and schemas",
    )
    .option("--out <file>", "write the document to this file instead of stdout");
  addConnectionOptions(command).action(async (flags: AsyncApiFlags) => {
    const document = await withClient(flags, (client) => client.admin.asyncApi());
    const text = `${JSON.stringify(document, null, 2)}\n`;
    if (flags.out === undefined) {
      process.stdout.write(text);
      return;
    }
    writeWhole(flags.out, text, "check --out");
    process.stderr.write(
      `wrote AsyncAPI ${document.asyncapi} to ${flags.out}: ${countOf(document, "channels")} channels, ${countOf(document, "operations")} operations\n`,
    );
  });
}
