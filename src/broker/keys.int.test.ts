import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { isSwitchyardError } from "../core/errors.js";
import { createEngine } from "../engine/create-engine.js";
import type { Engine } from "../engine/engine.js";
import { generateKey, KEYS_KIND, KeyStore, parseKey, parseNewKey } from "./keys.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isSwitchyardError(error) ? error.code : String(error);
  }
  return undefined;
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (isSwitchyardError(error) ? error.code : String(error)),
  );
}

const bearer = (key: string) => `Bearer ${key}`;

describe("key format", () => {
  it("is sy_<16 [a-z0-9]>_<43 base62>, fresh each time", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { id, secret, key } = generateKey();
      expect(key).toMatch(/^sy_[a-z0-9]{16}_[0-9A-Za-z]{43}$/);
      expect(parseKey(key)).toEqual({ id, secret });
      seen.add(key);
    }
    expect(seen.size).toBe(200);
    expect(parseKey("sy_short_x")).toBeUndefined();
    expect(parseKey(`${generateKey().key}x`)).toBeUndefined();
  });

  it("validates a new key's name, scopes, expiry and rate limit with pointers", () => {
    const now = Date.now();
    try {
      parseNewKey(
        {
          name: "",
          scopes: ["read:a", "nope"],
          expiresAt: "2000-01-01T00:00:00Z",
          rateLimit: { x: 1 },
        },
        now,
      );
      expect.unreachable();
    } catch (error) {
      expect(isSwitchyardError(error) && error.errors.map((e) => e.pointer)).toEqual([
        "/name",
        "/scopes/1",
        "/expiresAt",
        "/rateLimit/x",
      ]);
    }
    expect(parseNewKey({ name: "ci", scopes: ["read:*"] }, now)).toEqual({
      name: "ci",
      scopes: ["read:*"],
      expiresAt: null,
      rateLimit: null,
    });
  });
});

describe("the key store", () => {
  let dir: string;
  let engine: Engine;
  let now: number;
  let store: KeyStore;
  const clock = { now: () => now };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "switchyard-keys-"));
    engine = await createEngine({ kind: "sqlite", dataDir: dir });
    now = Date.now();
    store = new KeyStore(engine.catalog, { clock, flushMs: 60_000 });
    await store.start();
  });

  /** An admin key, once the watched view holds it. */
  async function liveAdmin() {
    const created = await store.create({
      name: "a",
      scopes: ["admin"],
      expiresAt: null,
      rateLimit: null,
    });
    await eventually(() => store.authenticate(bearer(created.key)));
    return created;
  }

  afterEach(async () => {
    await store.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("authenticates a created key from the watched view; stores only the hash", async () => {
    const created = await store.create({
      name: "ci",
      scopes: ["read:*"],
      expiresAt: null,
      rateLimit: null,
    });
    const principal = await eventually(() => store.authenticate(bearer(created.key)));
    expect(principal.record.name).toBe("ci");
    expect(principal.grants.allows({ kind: "read", name: "orders" })).toBe(true);
    const stored = await engine.catalog.get(KEYS_KIND, created.id);
    const secret = parseKey(created.key)?.secret ?? "";
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(await store.list())).not.toContain("hash");
  });

  it("refuses missing, malformed, unknown and wrong-secret keys with 401, never echoing them", async () => {
    const created = await liveAdmin();
    const parts = parseKey(created.key);
    const wrong = `sy_${parts?.id}_${"A".repeat(43)}`;
    for (const header of [
      undefined,
      "Basic abc",
      "Bearer",
      "Bearer sy_x",
      bearer(generateKey().key),
      bearer(wrong),
    ]) {
      try {
        store.authenticate(header);
        expect.unreachable();
      } catch (error) {
        expect(isSwitchyardError(error) && error.code).toBe("unauthenticated");
        expect((error as Error).message).not.toContain("AAAA");
      }
    }
  });

  it("revocation leaves a tombstone: 401 within the watch, 404 a second time, never re-registered", async () => {
    const created = await liveAdmin();
    await store.revoke(created.id);
    await eventually(
      () => expect(codeOf(() => store.authenticate(bearer(created.key)))).toBe("unauthenticated"),
      {
        timeoutMs: 1_000,
      },
    );
    expect(store.isValid(created.id)).toBe(false);
    expect(await rejectionCode(store.revoke(created.id))).toBe("key_not_found");
    expect(await rejectionCode(store.register(created.key, "again", ["admin"]))).toBe("conflict");
    expect((await store.list()).map((k) => k.id)).not.toContain(created.id);
  });

  it("registers a given key once; another secret under its id is refused", async () => {
    const { key, id } = generateKey();
    const registered = await store.register(key, "boot", ["admin"]);
    expect(registered).toMatchObject({ created: { name: "boot", scopes: ["admin"] } });
    expect(await store.register(key, "boot", ["admin"])).toBe("exists");
    const other = `sy_${id}_${generateKey().secret}`;
    expect(await rejectionCode(store.register(other, "boot", ["admin"]))).toBe("conflict");
    expect(await store.anyUsable()).toBe(true);
  });

  it("an expired key fails; a stale view answers 503", async () => {
    const created = await store.create({
      name: "short",
      scopes: ["read:*"],
      expiresAt: now + 60_000,
      rateLimit: null,
    });
    await eventually(() => store.authenticate(bearer(created.key)));
    now += 61_000;
    // The clock jumped past the 5 s staleness bound too: a synced marker must come first.
    await eventually(() =>
      expect(codeOf(() => store.authenticate(bearer(created.key)))).toBe("unauthenticated"),
    );
    expect(store.isValid(created.id)).toBe(false);
    now += 10_000;
    expect(codeOf(() => store.authenticate(bearer(created.key)))).toBe("engine_unavailable");
  });

  it("remembers lastUsedAt in memory and writes it on flush, not per request", async () => {
    const created = await liveAdmin();
    const before = await engine.catalog.get(KEYS_KIND, created.id);
    for (let i = 0; i < 10; i++) store.authenticate(bearer(created.key));
    expect((await engine.catalog.get(KEYS_KIND, created.id))?.revision).toBe(before?.revision);
    expect((await store.list())[0]?.lastUsedAt).toBe(new Date(now).toISOString());
    await store.flush();
    const after = await engine.catalog.get(KEYS_KIND, created.id);
    expect(after?.value.lastUsedAt).toBe(now);
  });
});
