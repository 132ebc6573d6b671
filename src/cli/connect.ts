import { type Command, Option } from "commander";
import { createClient, type SwitchyardClient } from "../client/index.js";

export const DEFAULT_URL = "http://127.0.0.1:8420";

/** `--url` on a client command, falling back to SWITCHYARD_URL, then the local default. */
export function addUrlOption(command: Command): Command {
  return command.addOption(
    new Option("--url <url>", "the router's URL").env("SWITCHYARD_URL").default(DEFAULT_URL),
  );
}

/** A client for one command run: a CLI call fails fast rather than retrying for long. */
export function connect(url: string, options: { source?: string } = {}): SwitchyardClient {
  return createClient({
    url,
    source: options.source ?? "switchyard-cli",
    retry: { retries: 2, initialDelayMs: 100, maxDelayMs: 1_000 },
    requestTimeoutMs: 15_000,
  });
}

/** Runs `fn` with a fresh client and closes it afterwards, whatever happens. */
export async function withClient<T>(
  url: string,
  fn: (client: SwitchyardClient) => Promise<T>,
): Promise<T> {
  const client = connect(url);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
