import { describe, expect, it, vi } from "vitest";
import type { SubscriptionConfig } from "../core/config.js";
import { SecretKeyError, SecretKeyRing } from "../core/secret-box.js";
import { subscriptionConfig } from "../engine/conformance/fixtures.js";
import type { CursorStore } from "../engine/engine.js";
import { PushSecrets } from "./push-secrets.js";

const SECRET = "whsec_c2VjcmV0LWJ5dGVzLW5vYm9keS1zaG91bGQtc2VlLTEyMw==";

function config(name: string, headers: Record<string, string>): SubscriptionConfig {
  const push = { url: "https://h.example/", timeoutMs: 10_000, mode: "binary" as const };
  return subscriptionConfig(name, "t", { push: { ...push, headers, secrets: [SECRET] } });
}

/** Just the two calls `reseal` makes, over a map. */
function memoryCursors(configs: SubscriptionConfig[]) {
  const stored = new Map(configs.map((c) => [c.name, c]));
  const cursors = {
    listSubscriptions: async () => [...stored.values()],
    putSubscription: vi.fn(async (c: SubscriptionConfig) => {
      stored.set(c.name, c);
      return { created: false };
    }),
  };
  return { stored, cursors, store: cursors as unknown as CursorStore };
}

describe("PushSecrets", () => {
  it("opens a stored config once per change, not on every read", () => {
    const ring = SecretKeyRing.generate("a");
    const open = vi.spyOn(ring, "open");
    const secrets = new PushSecrets(ring);
    const sealed = secrets.seal(config("s", { authorization: "Bearer x" }));
    expect(JSON.stringify(sealed)).not.toContain("Bearer x");
    expect(JSON.stringify(sealed)).not.toContain(SECRET);
    for (let i = 0; i < 5; i++)
      expect(secrets.open(sealed).push?.headers.authorization).toBe("Bearer x");
    expect(open).not.toHaveBeenCalled(); // the seal left the plaintext in the cache
    const fresh = new PushSecrets(ring); // another node, or a restart
    for (let i = 0; i < 5; i++) expect(fresh.open(sealed).push?.secrets).toEqual([SECRET]);
    expect(open).toHaveBeenCalledTimes(2); // one secret and one header, once
    const changed = secrets.seal(config("s", { authorization: "Bearer y" }));
    expect(fresh.open(changed).push?.headers.authorization).toBe("Bearer y");
    expect(open).toHaveBeenCalledTimes(4);
  });

  it("seals plaintext and other keys' values again under the first key, and only those", async () => {
    const a = SecretKeyRing.generateText("a");
    const b = SecretKeyRing.generateText("b");
    const underA = new PushSecrets(SecretKeyRing.parse(a, "test")).seal(config("old-key", {}));
    const underB = new PushSecrets(SecretKeyRing.parse(b, "test")).seal(config("current", {}));
    const plain = config("plain", { "x-k": "v" });
    const { stored, cursors, store } = memoryCursors([underA, underB, plain]);
    const secrets = new PushSecrets(SecretKeyRing.parse(`${b},${a}`, "test"));
    expect((await secrets.reseal(store)).sort()).toEqual(["old-key", "plain"]);
    expect(cursors.putSubscription).toHaveBeenCalledTimes(2);
    for (const c of stored.values()) {
      expect(c.push?.secrets[0]).toMatch(/^sy1:b:/);
      expect(secrets.open(c).push?.secrets).toEqual([SECRET]);
    }
    expect(secrets.open(stored.get("plain") as SubscriptionConfig).push?.headers).toEqual({
      "x-k": "v",
    });
    expect(await secrets.reseal(store)).toEqual([]);
  });

  it("refuses, writing nothing, a value sealed under a key not in the list", async () => {
    const gone = new PushSecrets(SecretKeyRing.generate("gone")).seal(config("lost", {}));
    const { cursors, store } = memoryCursors([config("plain", {}), gone]);
    const secrets = new PushSecrets(SecretKeyRing.generate("new"));
    await expect(secrets.reseal(store)).rejects.toThrow(SecretKeyError);
    await expect(secrets.reseal(store)).rejects.toThrow(/subscription lost .*key "gone"/);
    expect(cursors.putSubscription).not.toHaveBeenCalled();
  });
});
