import { type Command, Option } from "commander";
import type { ApiKey, CreatedApiKey, KeySettings } from "../../client/index.js";
import { isSwitchyardError } from "../../core/errors.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { CliFailure, usage } from "../fail.js";
import { renderTable } from "../output.js";
import { collect, parseDuration, parseRate, parseTime } from "../parse.js";
import { loadConfigFile, type NatsSettings, resolveNatsSettings } from "../router-settings.js";
import { addNatsOptions } from "./router-options.js";
import { natsOptions } from "./run-router.js";

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
  /** With `--engine nats`: serve's config file, for its `nats.*` settings. */
  readonly config?: string;
  /** The `--nats-*` flags, read by `resolveNatsSettings` under commander's names (`natsUrl`, …). */
  readonly [option: string]: unknown;
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

/**
 * The installation's JetStream as `serve` would reach it: the `nats.*` settings from flags >
 * SWITCHYARD_NATS_* > the config file (`--config`, SWITCHYARD_CONFIG), files read here.
 */
function natsTarget(flags: CreateFlags): NatsSettings {
  const configPath = flags.config ?? process.env.SWITCHYARD_CONFIG;
  const file = configPath ? loadConfigFile(configPath) : undefined;
  return resolveNatsSettings({
    flags,
    env: process.env,
    cwd: process.cwd(),
    ...(file ? { file } : {}),
  });
}

/** Offline: straight into the store, no router (see `createKeyInStore`). */
async function createOffline(flags: CreateFlags, settings: KeySettings): Promise<CreatedApiKey> {
  const { createKeyInStore } = await import("../../index.js");
  if (flags.engine === "nats") {
    const nats = natsTarget(flags);
    try {
      return await createKeyInStore({ nats: natsOptions(nats) }, settings);
    } catch (error) {
      // The engine's message names the servers and NATS's reason, never a secret.
      if (isSwitchyardError(error) && error.code === "engine_unavailable")
        throw new CliFailure(
          "engine_unavailable",
          error.message,
          "check --nats-url and the credentials the routers use: --nats-creds, --nats-nkey-file, --nats-user with SWITCHYARD_NATS_PASSWORD, --nats-tls-ca (docs/configuration.md)",
        );
      throw error;
    }
  }
  if (flags.config !== undefined)
    throw usage(
      "--config gives the NATS settings of --engine nats",
      "add --engine nats, or pass --data DIR alone for an embedded store",
    );
  if (flags.data === undefined)
    throw usage(
      "offline key creation needs the store",
      "pass --data DIR or --engine nats --nats-url …",
    );
  return createKeyInStore({ dataDir: flags.data }, settings);
}

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("create, list and revoke API keys (admin)");
  const create = addNatsOptions(
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
        new Option(
          "--engine <engine>",
          "offline: nats, connecting as serve does (--nats-* flags, SWITCHYARD_NATS_*, --config)",
        ).choices(["nats"]),
      )
      .option(
        "--config <file>",
        "offline --engine nats: serve's JSON config file, for its nats.* settings (or SWITCHYARD_CONFIG)",
      )
      .option("--json", "print JSON"),
  );
  addConnectionOptions(create).action(async (flags: CreateFlags) => {
    const settings = keySettings(flags);
    const offline =
      flags.data !== undefined || flags.engine !== undefined || flags.config !== undefined;
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
