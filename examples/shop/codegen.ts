/**
 * `node examples/shop/codegen.ts`: writes `lib/events.generated.ts`, the TypeScript types of
 * the shop's events, with `switchyard codegen` — from a registry, so every version in
 * `schemas/` goes through the registry's own validation and compatibility check, in order,
 * exactly as the fleet registers them. The registry is a scratch router started here (no
 * auth, a temporary folder, stopped after), so no demo needs to run. Run it after adding a
 * schema version; `codegen.test.ts` fails while the committed file differs from what it writes.
 *
 * The banner names the folder instead of the scratch router's URL (its port changes every
 * run), so the same schemas always give the same file.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startRouter } from "switchyard";
import { createClient } from "switchyard/client";
import { readSchemas, registerSchemas } from "./contracts.ts";

export const GENERATED_FILE = join(import.meta.dirname, "lib", "events.generated.ts");
const CLI = join(import.meta.dirname, "../../bin/switchyard.js");
const REGISTRY_NAME = "examples/shop/schemas (node examples/shop/codegen.ts)";

/** The text `switchyard codegen` writes for every version in `schemas/`. */
export async function generateShopTypes(): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), "switchyard-shop-codegen-"));
  const router = await startRouter({ port: 0, dataDir: scratch, logLevel: "silent" });
  try {
    const admin = createClient({ url: router.url, source: "/shop/codegen" });
    try {
      await registerSchemas(admin, readSchemas());
    } finally {
      await admin.close();
    }
    const out = join(scratch, "events.ts");
    await promisify(execFile)(process.execPath, [
      CLI,
      "codegen",
      "--out",
      out,
      "--url",
      router.url,
    ]);
    const text = readFileSync(out, "utf8");
    const registryLine = ` * Registry: ${router.url}\n`;
    if (!text.includes(registryLine))
      throw new Error("codegen's banner does not name the registry");
    return text.replace(registryLine, ` * Registry: ${REGISTRY_NAME}\n`);
  } finally {
    await router.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(GENERATED_FILE, await generateShopTypes());
  console.log(`wrote ${GENERATED_FILE}`);
}
