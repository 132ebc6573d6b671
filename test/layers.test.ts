import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Dependencies point down: cli → server → broker → engine → core; client → core only;
// outbox (the relay) → client, core;
// testing sits on top of everything.
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  engine: ["core"],
  broker: ["engine", "core"],
  server: ["broker", "engine", "core"],
  client: ["core"],
  // The outbox relay is a producer on the SDK that owns `pg` on the SDK side; the CLI runs it.
  outbox: ["client", "core"],
  cli: ["client", "core", "index", "outbox"],
  index: ["server", "broker", "engine", "core", "client"],
  // The test kit (`switchyard/testing`) starts a whole router and a client of it.
  testing: ["index", "server", "broker", "engine", "core", "client"],
};

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

function layerOf(path: string): string {
  const first = relative(src, path).split("/")[0] ?? "";
  return first.replace(/\.[jt]s$/, ""); // "index.ts", or "index.js" as imports spell it
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found = text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g);
  return [...found].map((m) => resolve(dirname(file), m[1] ?? ""));
}

describe("layering", () => {
  it("every import points down the layers", () => {
    const violations: string[] = [];
    for (const file of sourceFiles(src)) {
      const from = layerOf(file);
      if (file.includes("/conformance/")) continue; // the suite is test code living beside the seam
      for (const target of relativeImports(file)) {
        const to = layerOf(target);
        if (to === from) continue;
        if (!(ALLOWED[from] ?? []).includes(to))
          violations.push(`${relative(src, file)} imports ${relative(src, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
