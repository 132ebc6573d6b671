/**
 * The registry's node view as the publish path uses it (`SchemaLookup`), on a real SQLite
 * store (two brokers on one engine) and on a real nats-server (two engines, one JetStream):
 * a version registered on one node is looked up on the other within 1 s, compiled once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import {
  type NatsServers,
  natsServerAvailable,
  startNatsServer,
} from "../../../test/support/nats-server.js";
import { isSwitchyardError } from "../../core/errors.js";
import { SecretKeyRing } from "../../core/secret-box.js";
import { createEngine } from "../../engine/create-engine.js";
import type { Engine } from "../../engine/engine.js";
import { Broker } from "../broker.js";
import { SCHEMAS_KIND, versionKey } from "./records.js";

const ORDER = {
  type: "object",
  properties: { id: { type: "string" } },
  required: ["id"],
};

let counter = 0;
const typeName = () => `lookup.t${++counter}.${Date.now().toString(36)}`;

interface Nodes {
  readonly a: Broker;
  readonly b: Broker;
  /** The engine behind `a` (raw Catalog writes). */
  readonly engine: Engine;
  close(): Promise<void>;
}

async function sqliteNodes(): Promise<Nodes> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-registry-"));
  const engine = await createEngine({ kind: "sqlite", dataDir: dir });
  const secretKeys = SecretKeyRing.generate();
  const [a, b] = [new Broker({ engine, secretKeys }), new Broker({ engine, secretKeys })];
  await Promise.all([a.schemas.start(), b.schemas.start()]);
  return {
    a,
    b,
    engine,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function natsNodes(url: string): Promise<Nodes> {
  const prefix = `RL${Date.now().toString(36)}`;
  const open = async () => {
    const engine = await createEngine({ kind: "nats", servers: url, prefix });
    await engine.ready();
    return engine;
  };
  const [one, two] = [await open(), await open()];
  const secretKeys = SecretKeyRing.generate();
  const a = new Broker({ engine: one, secretKeys });
  const b = new Broker({ engine: two, secretKeys });
  await Promise.all([a.schemas.start(), b.schemas.start()]);
  return {
    a,
    b,
    engine: one,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([one.close(), two.close()]);
    },
  };
}

function lookupContract(open: () => Promise<Nodes>): void {
  let nodes: Nodes;
  beforeAll(async () => {
    nodes = await open();
  }, 60_000);
  afterAll(async () => {
    await nodes?.close();
  });

  it("a version registered on A is looked up on B within 1 s, and on A at once", async () => {
    const type = typeName();
    expect(nodes.b.schemas.latest(type)).toBeUndefined();
    const registered = await nodes.a.schemas.register(type, { schema: ORDER });
    expect(registered).toEqual({ type, version: 1, created: true });
    const at = Date.now();
    expect(nodes.a.schemas.latest(type)?.version).toBe(1);
    const seen = await eventually(
      () => {
        const compiled = nodes.b.schemas.latest(type);
        expect(compiled).toBeDefined();
        return compiled;
      },
      { timeoutMs: 1_000, intervalMs: 5 },
    );
    expect(Date.now() - at).toBeLessThan(1_000);
    expect(seen?.type).toBe(type);
    expect(seen?.validate({ id: "o-1" })).toEqual([]);
    expect(seen?.validate({})).toEqual([{ pointer: "/id", message: expect.any(String) }]);
    // Compiled once per version: the publish path gets the same validator every time.
    expect(nodes.b.schemas.latest(type)).toBe(seen);
    expect(nodes.b.schemas.version(type, 1)).toBe(seen);
    expect(nodes.b.schemas.version(type, 2)).toBeUndefined();
  });

  it("follows the latest version; an unreadable record in the store is ignored", async () => {
    const type = typeName();
    await nodes.a.schemas.configure(type, { compatibility: "NONE" });
    await nodes.a.schemas.register(type, { schema: ORDER });
    await nodes.b.schemas.register(type, { schema: { type: "string" } });
    await eventually(() => expect(nodes.a.schemas.latest(type)?.version).toBe(2), {
      timeoutMs: 1_000,
    });
    expect(nodes.a.schemas.latest(type)?.validate("text")).toEqual([]);
    expect(nodes.a.schemas.version(type, 1)?.validate("text")).not.toEqual([]);
    await nodes.engine.catalog.put(SCHEMAS_KIND, versionKey(type, 3), { schema: [1, 2] });
    await nodes.engine.catalog.put(SCHEMAS_KIND, "not-a-registry-key", { schema: true });
    const marker = typeName();
    await nodes.a.schemas.register(marker, { schema: true });
    await eventually(() => expect(nodes.b.schemas.latest(marker)).toBeDefined());
    expect(nodes.b.schemas.latest(type)?.version).toBe(2);
    expect(nodes.b.schemas.list().map((s) => s.type)).toContain(type);
  });
}

describe("schema lookups on SQLite", () => {
  lookupContract(sqliteNodes);

  it("a view that never synced answers 503 rather than guess", async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-registry-"));
    const engine = await createEngine({ kind: "sqlite", dataDir: dir });
    const broker = new Broker({ engine, secretKeys: SecretKeyRing.generate() });
    try {
      let code: string | undefined;
      try {
        broker.schemas.latest("any.type");
      } catch (error) {
        code = isSwitchyardError(error) ? error.code : String(error);
      }
      expect(code).toBe("engine_unavailable");
      await broker.schemas.start();
      expect(broker.schemas.latest("any.type")).toBeUndefined();
    } finally {
      await broker.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(natsServerAvailable())("schema lookups on two NATS nodes", () => {
  let nats: NatsServers;
  let url = "";
  beforeAll(async () => {
    nats = await startNatsServer();
    url = nats.url;
  }, 60_000);
  afterAll(async () => {
    await nats?.close();
  });
  lookupContract(() => natsNodes(url));
});
