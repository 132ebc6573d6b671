/**
 * Push secrets and header values on the embedded engine: write-only in the API, sealed in
 * the SQLite store (checked by reading the file itself), still sent to the endpoint, kept
 * across restarts with the key file, refused with a different key, and sealed at the first
 * start of a store written before sealing existed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretKeyError, SecretKeyRing } from "../../src/core/secret-box.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { type HttpSink, startSink } from "../support/http-sink.js";
import {
  expectAbsent,
  expectDelivered,
  expectWriteOnly,
  HEADERS,
  plaintextConfig,
  pushBody,
  SECRET,
} from "../support/push-secrets.js";
import { api, startTestRouter, type TestRouter, uniqueName } from "../support/router.js";

let sink: HttpSink;
const dirs: string[] = [];

beforeAll(async () => {
  sink = await startSink();
});
afterAll(async () => {
  await sink.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sy-secrets-"));
  dirs.push(dir);
  return dir;
}

function start(dataDir: string, secretKeys?: string): Promise<TestRouter> {
  return startTestRouter({
    dataDir,
    allowPrivateEndpoints: true,
    ...(secretKeys === undefined ? {} : { secretKeys }),
  });
}

/** Every row of every table of the store, as text (the router must be closed). */
function storeRows(dataDir: string): string {
  const db = new DatabaseSync(join(dataDir, "switchyard.db"), { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    return tables
      .map(({ name }) => {
        const rows = db.prepare(`SELECT * FROM "${String(name)}"`).all();
        return JSON.stringify(rows, (_k, v: unknown) =>
          v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v,
        );
      })
      .join("\n");
  } finally {
    db.close();
  }
}

/** The stored push config of `name`, straight from the subscriptions table. */
function storedPush(dataDir: string, name: string): { secrets: string[]; headers: object } {
  const db = new DatabaseSync(join(dataDir, "switchyard.db"), { readOnly: true });
  try {
    const row = db.prepare("SELECT config FROM subscriptions WHERE name = ?").get(name);
    if (row === undefined) throw new Error(`subscription ${name} is not in the store`);
    return (JSON.parse(String(row.config)) as { push: { secrets: string[]; headers: object } })
      .push;
  } finally {
    db.close();
  }
}

/** Every byte of every file in the data dir (database, WAL, key file excluded). */
function storeBytes(dataDir: string): string {
  return readdirSync(dataDir)
    .filter((f) => f !== "secret.keys" && statSync(join(dataDir, f)).isFile())
    .map((f) => readFileSync(join(dataDir, f)).toString("latin1"))
    .join("\n");
}

async function newTopic(http: ReturnType<typeof api>): Promise<string> {
  const topic = uniqueName("sec");
  expect((await http.put(`/v1/topics/${topic}`, {})).status).toBe(201);
  return topic;
}

describe("push secrets on the embedded engine", () => {
  it("stores only ciphertext, answers names and counts, and still signs and sends the headers", async () => {
    const dataDir = newDir();
    let router = await start(dataDir);
    let http = api(router.url);
    const topic = await newTopic(http);
    const name = uniqueName("sub");
    expect((await http.put(`/v1/subscriptions/${name}`, pushBody(topic, sink.url))).status).toBe(
      201,
    );
    await expectWriteOnly(http, name);
    await expectDelivered(http, topic, sink);

    // The key file: created on first start, 0600, one 32-byte key.
    const keyFile = join(dataDir, "secret.keys");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const keys = readFileSync(keyFile, "utf8");
    expect(SecretKeyRing.parse(keys, keyFile).keyIds).toHaveLength(1);

    await router.close();
    expectAbsent(storeRows(dataDir), "the store's tables");
    expectAbsent(storeBytes(dataDir), "the store's files");
    const stored = storedPush(dataDir, name);
    expect(stored.secrets[0]).toMatch(/^sy1:/);
    expect(Object.values(stored.headers).every((v) => String(v).startsWith("sy1:"))).toBe(true);

    // A restart with the key file kept: the same key, delivery as before.
    router = await start(dataDir);
    http = api(router.url);
    await expectWriteOnly(http, name);
    await expectDelivered(http, topic, sink);
    expect(readFileSync(keyFile, "utf8")).toBe(keys);
    await router.close();

    // A different key: the start is refused, naming the missing key id and no key.
    const other = SecretKeyRing.generateText("other");
    const keyId = keys.split(":")[0] ?? "";
    const refused = await start(dataDir, other).then(
      async (r) => {
        await r.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(SecretKeyError);
    const message = (refused as Error).message;
    expect(message).toContain(`"${keyId}"`);
    expect(message).toContain(name);
    expect(message).not.toContain(keys.split(":")[1]?.trim() ?? "?");
    expect(message).not.toContain(other.split(":")[1] ?? "?");
  });

  it("keeps headers on an update that leaves them out and replaces them when given", async () => {
    const dataDir = newDir();
    const router = await start(dataDir);
    const http = api(router.url);
    try {
      const topic = await newTopic(http);
      const name = uniqueName("sub");
      await http.put(`/v1/subscriptions/${name}`, pushBody(topic, sink.url));
      // A changed timeout without headers or secrets: both stay, and are still sent.
      const kept = await http.put(`/v1/subscriptions/${name}`, {
        topic,
        backoff: { initialMs: 10, maxMs: 100, multiplier: 2 },
        push: { url: sink.url, timeoutMs: 9_000 },
      });
      expect(kept.body.push).toMatchObject({ timeoutMs: 9_000, secretCount: 1 });
      expect(kept.body.push.headerNames).toEqual(["authorization", "x-api-key"]);
      await expectDelivered(http, topic, sink);
      const replaced = await http.put(`/v1/subscriptions/${name}`, {
        topic,
        push: { url: sink.url, headers: { "x-only": "one" } },
      });
      expect(replaced.body.push.headerNames).toEqual(["x-only"]);

      // Another origin with the headers left out: refused, so no stored value can be sent
      // to a host chosen by whoever changes the URL. Same origin, another path: kept.
      const moved = await http.put(`/v1/subscriptions/${name}`, {
        topic,
        push: { url: "http://127.0.0.1:9/elsewhere" },
      });
      expect(moved.status).toBe(400);
      expect(moved.body.errors).toEqual([
        { pointer: "/push/headers", message: expect.stringMatching(/another origin/) },
      ]);
      const samePlace = await http.put(`/v1/subscriptions/${name}`, {
        topic,
        push: { url: `${sink.url}/deeper` },
      });
      expect(samePlace.body.push.headerNames).toEqual(["x-only"]);
      const movedWithHeaders = await http.put(`/v1/subscriptions/${name}`, {
        topic,
        push: { url: "http://127.0.0.1:9/elsewhere", headers: {} },
      });
      expect(movedWithHeaders.status).toBe(200);
    } finally {
      await router.close();
    }
  });

  it("seals a store written before sealing existed at its next start, then rotates keys", async () => {
    const dataDir = newDir();
    const keyA = SecretKeyRing.generateText("a");
    let router = await start(dataDir, keyA);
    const topic = await newTopic(api(router.url));
    expect((await api(router.url).put(`/v1/topics/${topic}.dlq`, {})).status).toBe(201);
    await router.close();

    // An old router's store: the config written straight through the engine, in plaintext.
    const name = uniqueName("old");
    const engine = await createEngine({ kind: "sqlite", dataDir });
    await engine.ready();
    await engine.cursors.putSubscription(plaintextConfig(name, topic, sink.url));
    await engine.close();
    expect(storeRows(dataDir)).toContain(HEADERS.authorization);

    router = await start(dataDir, keyA);
    await expectWriteOnly(api(router.url), name);
    await expectDelivered(api(router.url), topic, sink);
    await router.close();
    expectAbsent(storeRows(dataDir), "the migrated store's tables");
    expect(storedPush(dataDir, name).secrets[0]).toMatch(/^sy1:a:/);

    // Rotation: the new key first, restart (everything is sealed again under b), drop a.
    const keyB = SecretKeyRing.generateText("b");
    router = await start(dataDir, `${keyB},${keyA}`);
    await router.close();
    const resealed = storedPush(dataDir, name);
    expect(resealed.secrets[0]).toMatch(/^sy1:b:/);
    expect(Object.values(resealed.headers).every((v) => String(v).startsWith("sy1:b:"))).toBe(true);
    router = await start(dataDir, keyB);
    await expectDelivered(api(router.url), topic, sink);
    await router.close();
    expect(storeRows(dataDir)).not.toContain(SECRET);
  });
});
