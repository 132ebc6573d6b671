import type { Command } from "commander";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { parsePosition } from "../parse.js";

export function registerSeek(program: Command): void {
  const command = program
    .command("seek <subscription> <position>")
    .description(
      "move a subscription to earliest, latest, an offset or a time (others are unaffected)",
    );
  addConnectionOptions(command).action(
    async (name: string, position: string, flags: ConnectionFlags) => {
      const to = parsePosition(position, "position");
      const { position: offset } = await withClient(flags, (c) => c.admin.seek(name, to));
      process.stdout.write(`moved ${name} to offset ${offset}\n`);
    },
  );
}
