/** The README's table of keys is the one in keys.ts: a scope added to one shows in the other. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVICES } from "./fleet.ts";
import { scopesOf, USES } from "./keys.ts";

describe("the shop's keys", () => {
  it("are documented in the README exactly as keys.ts grants them", () => {
    const readme = readFileSync(join(import.meta.dirname, "README.md"), "utf8");
    for (const service of SERVICES) {
      const row = readme.split("\n").find((line) => line.includes(`| \`shop-${service}\` |`));
      const documented = [...(row?.split("|")[3] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      expect({ service, scopes: documented }).toEqual({ service, scopes: scopesOf(service) });
    }
  });

  it("never grant admin, and every topic a key reads is one it subscribes to (with its dead-letter topic) or relays to", () => {
    for (const service of SERVICES) {
      const scopes = scopesOf(service);
      expect(scopes).not.toContain("admin");
      for (const read of scopes.filter((s) => s.startsWith("read:"))) {
        const topic = read.slice(5);
        const subscribes = scopes.some((s) => s.startsWith(`manage:${topic}.`));
        const relays = (USES[service].relays ?? []).includes(topic);
        expect({ service, read, ok: subscribes || relays }).toEqual({ service, read, ok: true });
      }
    }
  });

  it("let only the relay publish orders: checkout writes them to its outbox", () => {
    const publishers = SERVICES.filter((s) => scopesOf(s).includes("publish:orders"));
    expect(publishers).toEqual(["relay"]);
  });
});
