import type { Command } from "commander";
import { painter } from "../output.js";
import { type RouterSettings, resolveSettings } from "../router-settings.js";
import { addRouterOptions } from "./router-options.js";
import { closeOnSignal, packageVersion, startFromSettings } from "./run-router.js";

export function registerDev(program: Command): void {
  const dev = program
    .command("dev")
    .description(
      "run a local router for development: store in ./.switchyard, topics created on first publish",
    );
  addRouterOptions(dev, "dev");
  dev.action(async (flags: Record<string, unknown>) => {
    const settings = resolveSettings("dev", { flags, env: process.env, cwd: process.cwd() });
    const router = await startFromSettings(settings);
    process.stdout.write(banner(router.url, settings));
    await closeOnSignal(router, (line) => process.stderr.write(`${line}\n`));
  });
}

function banner(url: string, settings: RouterSettings): string {
  const paint = painter(process.stdout);
  const urlFlag = url === "http://127.0.0.1:8420" ? "" : ` --url ${url}`;
  return [
    "",
    `  ${paint("bold", "Switchyard")} ${packageVersion()} ${paint("dim", "— dev router")}`,
    "",
    // Scripts and tests read the bound port from this line (`--port 0`): keep its form.
    `  API       ${paint("cyan", `${url}/v1`)}`,
    `  OpenAPI   ${paint("cyan", `${url}/openapi.json`)}`,
    `  Dashboard ${paint("cyan", `${url}/ui/`)}`,
    `  Metrics   ${paint("cyan", `${url}/metrics`)}`,
    `  Data      ${settings.dataDir} ${paint("dim", `(${settings.engine}, fsync ${settings.fsync})`)}`,
    "",
    `  Topics are created on first publish. Try, in another terminal:`,
    `    switchyard publish orders --type order.placed --data '{"id":1}'${urlFlag}`,
    `    switchyard tail orders --from 1${urlFlag}`,
    "",
    `  ${paint("dim", "Ctrl+C stops the router.")}`,
    "",
    "",
  ].join("\n");
}
