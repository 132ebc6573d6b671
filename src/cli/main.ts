import { Command, CommanderError } from "commander";
import { registerAsyncApi } from "./commands/asyncapi.js";
import { registerAttempts } from "./commands/attempts.js";
import { registerAudit } from "./commands/audit.js";
import { registerCodegen } from "./commands/codegen.js";
import { registerDev } from "./commands/dev.js";
import { registerDlq } from "./commands/dlq.js";
import { registerExport, registerImport } from "./commands/export-import.js";
import { registerFlow } from "./commands/flow.js";
import { registerKeys } from "./commands/keys.js";
import { registerOutbox } from "./commands/outbox.js";
import { registerPublish } from "./commands/publish.js";
import { packageVersion } from "./commands/run-router.js";
import { registerSchema } from "./commands/schema.js";
import { registerSeek } from "./commands/seek.js";
import { registerServe } from "./commands/serve.js";
import { registerSubs } from "./commands/subs.js";
import { registerTail } from "./commands/tail.js";
import { registerTopics } from "./commands/topics.js";
import { describeFailure, EXIT_FAILED, EXIT_USAGE } from "./fail.js";

export function buildProgram(): Command {
  const program = new Command("switchyard")
    .description("Switchyard: an event router with a durable log, replay, retries and dead letters")
    .version(packageVersion(), "-v, --version")
    .showSuggestionAfterError(true)
    .exitOverride()
    // Commander reports usage errors itself; `run` rewrites them into our one-line format.
    .configureOutput({ writeErr: () => {} });
  for (const register of [
    registerDev,
    registerServe,
    registerPublish,
    registerTail,
    registerTopics,
    registerSubs,
    registerSeek,
    registerDlq,
    registerAttempts,
    registerFlow,
    registerExport,
    registerImport,
    registerKeys,
    registerAudit,
    registerSchema,
    registerCodegen,
    registerAsyncApi,
    registerOutbox,
  ])
    register(program);
  for (const command of program.commands) inheritBehaviour(command);
  return program;
}

function inheritBehaviour(command: Command): void {
  command
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .showSuggestionAfterError(true);
  for (const sub of command.commands) inheritBehaviour(sub);
}

/** Runs the CLI; resolves with the exit code. Expected failures print one line on stderr. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0; // --help, --version
    const what = error.message.replace(/^error:\s*/, "").replace(/\s*\n\s*/g, " ");
    process.stderr.write(`error: ${what} (usage) — see \`switchyard --help\`\n`);
    return EXIT_USAGE;
  }
  const failure = describeFailure(error);
  if (failure) {
    process.stderr.write(`${failure.line}\n`);
    return failure.exitCode;
  }
  // Not an expected failure: a bug. Show everything.
  process.stderr.write(
    `switchyard: unexpected error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT_FAILED;
}
