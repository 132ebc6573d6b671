import { type Command, Option } from "commander";
import type { ApiKey, CreatedApiKey, KeySettings } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { usage } from "../fail.js";
import { renderTable } from "../output.js";
import { collect, parseDuration, parseRate, parseTime } from "../parse.js";

interface ListFlags extends ConnectionFlags {
  readonly json?: boolean;
}

interface CreateFlags extends ListFlags {
  readonly name?: string;
  readonly scope?: string[];
  readonly admin?: boolean;
  readonly expires?: string;
  readonly requestsPerSec?: string;
  readonly eventsPerSec?: string;
  /** Offline: the stopped router's data directory (the store lock is taken like a router does). */
  readonly data?: string;
  readonly engine?: string;
  readonly natsUrl?: string;
  readonly natsPrefix?: string;
}

/** `--expires 30d` (from now) or an RFC 3339 time. */
function expiresAt(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(value.trim()))
    return new Date(Date.now() + parseDuration(value, "--expires")).toISOString();
  return parseTime(value, "--expires");
}

function keySettings(flags: CreateFlags): KeySettings {
  const scopes = [...(flags.admin ? ["admin"] : []), ...(flags.scope ?? [])];
  if (scopes.length === 0)
    throw usage(
      "a key needs at least one scope",
      "pass --scope read:orders.* (repeatable) or --admin",
    );
  const expires = expiresAt(flags.expires);
  const rateLimit = rateLimitOf(flags);
  return {
    name: flags.name ?? (flags.admin ? "admin" : "key"),
    scopes,
    ...(expires === undefined ? {} : { expiresAt: expires }),
    ...(rateLimit === undefined ? {} : { rateLimit }),
  };
}

/** `--requests-per-sec` / `--events-per-sec`: the body's `rateLimit` fields; none, no limit. */
function rateLimitOf(flags: CreateFlags): KeySettings["rateLimit"] {
  const { requestsPerSec, eventsPerSec } = flags;
  if (requestsPerSec === undefined && eventsPerSec === undefined) return undefined;
  return {
    ...(requestsPerSec === undefined
      ? {}
      : { requestsPerSec: parseRate(requestsPerSec, "--requests-per-sec") }),
    ...(eventsPerSec === undefined
      ? {}
      : { eventsPerSec: parseRate(eventsPerSec, "--events-per-sec") }),
  };
}

function describeRateLimit(limit: ApiKey["rateLimit"]): string {
  if (limit === undefined) return "-";
  const parts = [];
  if (limit.requestsPerSec !== undefined) parts.push(`${limit.requestsPerSec} req/s`);
  if (limit.eventsPerSec !== undefined) parts.push(`${limit.eventsPerSec} events/s`);
  return parts.join(", ");
}

function printCreated(created: CreatedApiKey, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(created)}\n`);
    return;
  }
  const limit = created.rateLimit === undefined ? "" : ` (${describeRateLimit(created.rateLimit)})`;
  process.stdout.write(
    `created key ${created.id} (${created.name}): ${created.scopes.join(" ")}${limit}\n${created.key}\n`,
  );
  process.stderr.write("store this key now: it will not be shown again\n");
}

/** Offline: straight into the store, no router (see `createKeyInStore`). */
async function createOffline(flags: CreateFlags, settings: KeySettings): Promise<CreatedApiKey> {
  const { createKeyInStore } = await import("../../index.js");
  if (flags.engine === "nats") {
    if (flags.natsUrl === undefined)
      throw usage("--engine nats needs --nats-url", "pass --nats-url nats://host:4222");
    const nats = {
      url: flags.natsUrl,
      ...(flags.natsPrefix === undefined ? {} : { prefix: flags.natsPrefix }),
    };
    return createKeyInStore({ nats }, settings);
  }
  if (flags.data === undefined)
    throw usage(
      "offline key creation needs the store",
      "pass --data DIR or --engine nats --nats-url …",
    );
  return createKeyInStore({ dataDir: flags.data }, settings);
}

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("create, list and revoke API keys (admin)");
  addConnectionOptions(
    keys
      .command("create")
      .description("create an API key; it is printed once and never shown again")
      .option("--name <name>", "a label for the key (1-64 characters)")
      .option(
        "--scope <scope>",
        "admin | metrics | manage:|schemas:|publish:|read:|consume:<glob> (repeatable)",
        collect,
      )
      .option("--admin", "the admin scope (everything, keys included)")
      .option("--expires <when>", "a duration from now (30d) or an RFC 3339 time")
      .option(
        "--requests-per-sec <n>",
        "rate limit: requests per second, per router (rateLimit.requestsPerSec)",
      )
      .option(
        "--events-per-sec <n>",
        "rate limit: published events per second, per router (rateLimit.eventsPerSec)",
      )
      .option("--data <dir>", "offline: write into a stopped router's store")
      .addOption(
        new Option("--engine <engine>", "offline: nats, with --nats-url").choices(["nats"]),
      )
      .option("--nats-url <urls>", "offline: the NATS servers of the installation")
      .option("--nats-prefix <name>", "offline: the installation's prefix (default SY)")
      .option("--json", "print JSON"),
  ).action(async (flags: CreateFlags) => {
    const settings = keySettings(flags);
    const offline = flags.data !== undefined || flags.engine !== undefined;
    const created = offline
      ? await createOffline(flags, settings)
      : await withClient(flags, (c) => c.admin.keys.create(settings));
    printCreated(created, flags.json);
  });
  keys
    .command("generate")
    .description(
      "print a fresh key in the router's format (for SWITCHYARD_ADMIN_KEY); stores nothing",
    )
    .action(async () => {
      const { generateApiKey } = await import("../../index.js");
      process.stdout.write(`${generateApiKey()}\n`);
    });
  addConnectionOptions(
    keys
      .command("list")
      .description("list keys (never their secrets)")
      .option("--json", "print JSON"),
  ).action(async (flags: ListFlags) => {
    const list = await withClient(flags, (c) => c.admin.keys.list());
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(list)}\n`);
      return;
    }
    process.stdout.write(
      `${renderTable<ApiKey>(list, [
        { header: "ID", value: (k) => k.id },
        { header: "NAME", value: (k) => k.name },
        { header: "SCOPES", value: (k) => k.scopes.join(" ") },
        { header: "EXPIRES", value: (k) => k.expiresAt ?? "never" },
        { header: "RATE LIMIT", value: (k) => describeRateLimit(k.rateLimit) },
        { header: "LAST USED", value: (k) => k.lastUsedAt ?? "-" },
      ])}\n`,
    );
  });
  addConnectionOptions(
    keys.command("revoke <id>").description("revoke a key: it fails on every router within 1 s"),
  ).action(async (id: string, flags: ConnectionFlags) => {
    await withClient(flags, (c) => c.admin.keys.revoke(id));
    process.stdout.write(`revoked key ${id}\n`);
  });
}
