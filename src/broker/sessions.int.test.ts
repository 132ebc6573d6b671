import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { createEngine } from "../engine/create-engine.js";
import type { Catalog, Engine } from "../engine/engine.js";
import { KeyStore, type Principal } from "./keys.js";
import { SESSION_TIMES, SESSIONS_KIND, SessionStore } from "./sessions.js";

describe("the session store", () => {
  let dir: string;
  let engine: Engine;
  let now: number;
  let keys: KeyStore;
  let sessions: SessionStore;
  let puts: number;
  const clock = { now: () => now };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "switchyard-sessions-"));
    engine = await createEngine({ kind: "sqlite", dataDir: dir });
    now = Date.now();
    puts = 0;
    const inner = engine.catalog;
    // Counts the session writes: `lastSeenAt` must not be written per request.
    const catalog: Catalog = {
      get: (kind, key) => inner.get(kind, key),
      list: (kind, prefix) => inner.list(kind, prefix),
      delete: (kind, key, options) => inner.delete(kind, key, options),
      watch: (kind, signal) => inner.watch(kind, signal),
      put: (kind, key, value, options) => {
        if (kind === SESSIONS_KIND) puts++;
        return inner.put(kind, key, value, options);
      },
    };
    keys = new KeyStore(catalog, { clock });
    await keys.start();
    sessions = new SessionStore(catalog, keys, { clock });
  });

  afterEach(async () => {
    await keys.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function principal(): Promise<Principal> {
    const created = await keys.create({
      name: "d",
      scopes: ["read:*"],
      expiresAt: null,
      rateLimit: null,
    });
    return eventually(() => keys.authenticate(`Bearer ${created.key}`));
  }

  /** Moves the fake clock, then waits for the key view's next `synced` at the new time. */
  async function advance(ms: number): Promise<void> {
    now += ms;
    await eventually(() => keys.principalOf("0".repeat(16)), { timeoutMs: 5_000 });
  }

  it("stores only the id's hash, and writes lastSeenAt at most once per touch interval", async () => {
    const { id } = await sessions.create(await principal());
    expect(puts).toBe(1);
    const stored = await engine.catalog.list(SESSIONS_KIND);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(id);
    for (let i = 0; i < 100; i++) expect(await sessions.find(id)).toBeDefined();
    expect(puts).toBe(1);
    await advance(SESSION_TIMES.touchMs + 1_000);
    for (let i = 0; i < 100; i++) expect(await sessions.find(id)).toBeDefined();
    await eventually(() => expect(puts).toBe(2));
    for (let i = 0; i < 20; i++) await sessions.find(id);
    expect(puts).toBe(2);
  });

  it("ends after 1 h idle, and after 12 h however busy", async () => {
    const owner = await principal();
    const idle = await sessions.create(owner);
    const busy = await sessions.create(owner);
    for (let hour = 0; hour < 12; hour++) {
      await advance(SESSION_TIMES.idleMs - 60_000);
      expect(await sessions.find(busy.id), `hour ${hour}`).toBeDefined();
      // Its lastSeenAt lands before the clock moves on (2 creates, then one touch each).
      await eventually(() => expect(puts).toBe(3 + hour));
      if (hour === 1) expect(await sessions.find(idle.id)).toBeUndefined();
    }
    await advance(12 * 60_000);
    expect(await sessions.find(busy.id)).toBeUndefined();
  });

  it("ends with its key, and on end()", async () => {
    const owner = await principal();
    const a = await sessions.create(owner);
    const b = await sessions.create(owner);
    await sessions.end(a.id);
    expect(await sessions.find(a.id)).toBeUndefined();
    expect(await sessions.find(b.id)).toBeDefined();
    await keys.revoke(owner.record.id);
    await eventually(async () => expect(await sessions.find(b.id)).toBeUndefined());
    await eventually(async () => expect(await engine.catalog.list(SESSIONS_KIND)).toHaveLength(0));
    expect(await sessions.find("not-a-session")).toBeUndefined();
  });

  it("holds the view open streams are checked against fresh only within 5 s of a synced marker", async () => {
    await sessions.start();
    try {
      expect(sessions.isFresh()).toBe(true);
      now += 5_001; // no marker can arrive between this line and the next
      expect(sessions.isFresh()).toBe(false);
      expect(keys.isFresh()).toBe(false);
      await eventually(() => expect(sessions.isFresh()).toBe(true));
    } finally {
      await sessions.close();
    }
  });
});
