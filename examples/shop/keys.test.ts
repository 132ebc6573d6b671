/** The README's table of keys is the one in keys.ts: a scope added to one shows in the other. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVICES } from "./fleet.ts";
import { scopesOf } from "./keys.ts";

describe("the shop's keys", () => {
  it("are documented in the README exactly as keys.ts grants them", () => {
    const readme = readFileSync(join(import.meta.dirname, "README.md"), "utf8");
    for (const service of SERVICES) {
      const row = readme.split("\n").find((line) => line.includes(`| \`shop-${service}\` |`));
      const documented = [...(row?.split("|")[3] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      expect({ service, scopes: documented }).toEqual({ service, scopes: scopesOf(service) });
    }
  });

  it("never grant admin, and every subscription a key manages has its dead-letter topic", () => {
    for (const service of SERVICES) {
      const scopes = scopesOf(service);
      expect(scopes).not.toContain("admin");
      for (const read of scopes.filter((s) => s.startsWith("read:"))) {
        expect(scopes.some((s) => s.startsWith(`manage:${read.slice(5)}.`))).toBe(true);
      }
    }
  });
});
