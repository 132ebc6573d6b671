import { readFileSync } from "node:fs";

// src/server/version.ts and dist/server/version.js both sit two levels below package.json.
function readVersion(): string {
  try {
    const pkg: unknown = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    );
    if (
      typeof pkg === "object" &&
      pkg !== null &&
      "version" in pkg &&
      typeof pkg.version === "string"
    )
      return pkg.version;
  } catch {
    // A bundled or relocated build: fall through.
  }
  return "0.0.0-unknown";
}

export const VERSION = readVersion();
