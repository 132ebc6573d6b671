import type { Command } from "commander";
import { loadConfigFile, resolveSettings } from "../router-settings.js";
import { addRouterOptions } from "./router-options.js";
import { closeOnSignal, packageVersion, startFromSettings } from "./run-router.js";

export function registerServe(program: Command): void {
  const serve = program
    .command("serve")
    .description(
      "run the router: settings from flags > SWITCHYARD_* env > --config file > defaults",
    )
    .option("--config <file>", "JSON config file (or SWITCHYARD_CONFIG)");
  addRouterOptions(serve, "serve");
  serve.action(async (flags: Record<string, unknown>) => {
    const configPath = (flags.config as string | undefined) ?? process.env.SWITCHYARD_CONFIG;
    const file = configPath ? loadConfigFile(configPath) : undefined;
    const settings = resolveSettings("serve", {
      flags,
      env: process.env,
      cwd: process.cwd(),
      ...(file ? { file } : {}),
    });
    const router = await startFromSettings(settings);
    const store =
      settings.nats === undefined
        ? `data ${settings.dataDir}, fsync ${settings.fsync}`
        : `nats ${settings.nats.url}`;
    // Scripts and tests read the bound port from this line (`--port 0`): keep its form.
    process.stdout.write(
      `switchyard ${packageVersion()} listening on ${router.url} (${settings.engine}, ${store})\n`,
    );
    await closeOnSignal(router, (line) => process.stderr.write(`${line}\n`));
  });
}
