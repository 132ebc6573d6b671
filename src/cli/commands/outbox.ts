import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { DEFAULT_URL } from "../connect.js";
import { CliFailure, usage } from "../fail.js";

interface OutboxFlags {
  readonly postgres?: string;
  readonly table: string;
}

interface RelayFlags extends OutboxFlags {
  readonly router: string;
  readonly key?: string;
  readonly ca?: string;
  readonly force?: boolean;
  readonly batch: string;
  readonly progress: string;
}

// `pg` is an optional peer dependency: only these commands load it, when they run.
async function relayModule(): Promise<typeof import("../../outbox/relay.js")> {
  try {
    return await import("../../outbox/relay.js");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND";
    if (missing && String((error as Error).message).includes("'pg'"))
      throw usage("the outbox commands need the pg package", "install it: npm install pg");
    throw error;
  }
}

export function registerOutbox(program: Command): void {
  const outbox = program
    .command("outbox")
    .description(
      "the transactional outbox: publish rows a PostgreSQL transaction wrote (docs/outbox.md)",
    );
  addPostgres(
    outbox
      .command("init")
      .description("create the outbox table, its trigger and the relay's state row"),
  ).action(async (flags: OutboxFlags) => {
    const { initOutbox } = await relayModule();
    await withPostgres(() => initOutbox(postgresOf(flags), flags.table));
    process.stdout.write(`outbox table ${flags.table} ready\n`);
  });
  addPostgres(
    outbox
      .command("relay")
      .description(
        "publish committed outbox rows to the router, each once, in id order (runs until stopped)",
      ),
  )
    .addOption(
      new Option("--router <url>", "the router's URL").env("SWITCHYARD_URL").default(DEFAULT_URL),
    )
    .addOption(
      new Option("--key <key>", "the API key to publish with (prefer SWITCHYARD_API_KEY)").env(
        "SWITCHYARD_API_KEY",
      ),
    )
    .addOption(
      new Option("--ca <file>", "trust this PEM CA for an https:// router").env("SWITCHYARD_CA"),
    )
    .option("--force", "publish rows that may have been sent longer ago than the dedupe window")
    .option("--batch <rows>", "rows per published batch", "500")
    .option("--progress <seconds>", "seconds between progress lines on stderr (0: none)", "5")
    .action((flags: RelayFlags) => relay(flags));
}

function addPostgres(command: Command): Command {
  return command
    .addOption(
      new Option("--postgres <url>", "PostgreSQL connection string (or DATABASE_URL)").env(
        "DATABASE_URL",
      ),
    )
    .option("--table <name>", "the outbox table", "outbox");
}

function postgresOf(flags: OutboxFlags): string {
  if (!flags.postgres)
    throw usage("--postgres is required", "e.g. --postgres postgres://user@127.0.0.1:5432/app");
  return flags.postgres;
}

function positive(value: string, flag: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw usage(`${flag} must be a whole number${allowZero ? "" : " above 0"}`, `e.g. ${flag} 5`);
  return n;
}

/** Failures of PostgreSQL itself (unreachable, no such table) as one line, exit 1. */
async function withPostgres<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Error && !("status" in error))
      throw new CliFailure(
        "engine_unavailable",
        `PostgreSQL: ${error.message}`,
        "check --postgres and that the outbox table exists (`switchyard outbox init`)",
        {
          shownCode: "postgres",
        },
      );
    throw error;
  }
}

async function relay(flags: RelayFlags): Promise<void> {
  const postgres = postgresOf(flags);
  const batchSize = positive(flags.batch, "--batch");
  const progressMs = positive(flags.progress, "--progress", true) * 1000;
  const { OutboxRelay, RelayRefused } = await relayModule();
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const started = await withPostgres(() =>
    OutboxRelay.start({
      postgres,
      table: flags.table,
      router: {
        url: flags.router,
        ...(flags.key ? { apiKey: flags.key } : {}),
        ...(flags.ca ? { ca: readFileSync(flags.ca) } : {}),
      },
      ...(flags.force ? { force: true } : {}),
      batchSize,
      log,
    }),
  ).catch((error: unknown) => {
    if (error instanceof RelayRefused)
      throw new CliFailure(
        "conflict",
        error.message,
        error.reason === "locked"
          ? "stop the other relay first; this one can take over once its session ends"
          : "check the log for those rows, then pass --force to send them anyway",
        { shownCode: error.reason === "locked" ? "relay_locked" : "stale_rows" },
      );
    throw error;
  });
  log(`outbox relay: publishing ${flags.table} to ${flags.router} (lock held)`);
  const stop = (): void => {
    void started.stop();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let last = { at: Date.now(), published: 0 };
  const timer =
    progressMs > 0
      ? setInterval(() => {
          void started.status().then(
            (status) => {
              const now = Date.now();
              const rate =
                ((status.published - last.published) * 1000) / Math.max(1, now - last.at);
              last = { at: now, published: status.published };
              const oldest =
                status.oldestPendingMs === null
                  ? "none"
                  : `${(status.oldestPendingMs / 1000).toFixed(1)} s`;
              log(
                `outbox relay: ${status.published} published (${status.duplicates} already in the log), ${rate.toFixed(0)}/s; pending ${status.pending}, oldest ${oldest}; cursor ${status.publishedTo}`,
              );
            },
            () => {},
          );
        }, progressMs)
      : undefined;
  try {
    await started.done;
  } finally {
    if (timer) clearInterval(timer);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  log("outbox relay: stopped");
}
