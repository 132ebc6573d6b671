import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { type ClientOptions, createClient, type SwitchyardClient } from "../client/index.js";
import { usage } from "./fail.js";

export const DEFAULT_URL = "http://127.0.0.1:8420";

/** How a client command reaches the router: the flags `addConnectionOptions` adds. */
export interface ConnectionFlags {
  readonly url: string;
  /** A PEM file of the CA that signed an HTTPS router's certificate. */
  readonly ca?: string;
  /** The API key sent as `Authorization: Bearer` (from SWITCHYARD_API_KEY, best: not in `ps`). */
  readonly apiKey?: string;
}

/** `--url` (SWITCHYARD_URL, then the local default), `--ca` (SWITCHYARD_CA), `--api-key` (SWITCHYARD_API_KEY). */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--url <url>", "the router's URL").env("SWITCHYARD_URL").default(DEFAULT_URL),
    )
    .addOption(
      new Option("--ca <file>", "trust this PEM CA for an https:// router").env("SWITCHYARD_CA"),
    )
    .addOption(
      new Option("--api-key <key>", "the API key to send (prefer SWITCHYARD_API_KEY)").env(
        "SWITCHYARD_API_KEY",
      ),
    );
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw usage(`cannot read the CA file ${path} (${why})`, "check --ca (or SWITCHYARD_CA)");
  }
}

/** A client for one command run: a CLI call fails fast rather than retrying for long. */
export function connect(
  flags: ConnectionFlags,
  options: Omit<ClientOptions, "url" | "ca" | "apiKey"> = {},
): SwitchyardClient {
  return createClient({
    source: "switchyard-cli",
    retry: { retries: 2, initialDelayMs: 100, maxDelayMs: 1_000 },
    requestTimeoutMs: 15_000,
    ...options,
    url: flags.url,
    ...(flags.ca === undefined ? {} : { ca: readCa(flags.ca) }),
    ...(flags.apiKey === undefined || flags.apiKey === "" ? {} : { apiKey: flags.apiKey }),
  });
}

/** Runs `fn` with a fresh client and closes it afterwards, whatever happens. */
export async function withClient<T>(
  flags: ConnectionFlags,
  fn: (client: SwitchyardClient) => Promise<T>,
): Promise<T> {
  const client = connect(flags);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
