import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { KeyStore } from "../../src/broker/keys.js";
import { SecretKeyRing } from "../../src/core/secret-box.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { declareScopes } from "../../src/server/auth/auth.js";
import { ROUTE_SCOPES } from "../../src/server/auth/route-scopes.js";
import { openApiDocument } from "../../src/server/openapi.js";
import { createServer } from "../../src/server/server.js";

/** `/v1/topics/:topic` → `/v1/topics/{topic}` */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, "{$1}").replace(/\*$/, "{path}");
}

describe("the OpenAPI document", () => {
  it("covers every route the server registers, with the same methods", async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-openapi-"));
    const engine = await createEngine({ kind: "sqlite", dataDir: dir });
    try {
      const server = await createServer({
        broker: new Broker({ engine, secretKeys: SecretKeyRing.generate() }),
        keys: new KeyStore(engine.catalog),
        logLevel: "silent",
      });
      const doc = openApiDocument("test") as { paths: Record<string, Record<string, unknown>> };
      const registered = server.routes.map((r) => `${r.method} ${openApiPath(r.url)}`).sort();
      const documented = Object.entries(doc.paths)
        .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
        .sort();
      expect(registered.length).toBeGreaterThan(20);
      expect(documented).toEqual(registered);
      // Every route Fastify holds declares its scope (or is open), and the table has no
      // entry for a route that does not exist; the document shows each rule.
      const declared = [...ROUTE_SCOPES.keys()].sort();
      expect(server.routes.map((r) => `${r.method} ${r.url}`).sort()).toEqual(declared);
      const open = [...ROUTE_SCOPES].filter(([, rule]) => rule.type === "open").map(([r]) => r);
      expect(open.sort()).toEqual([
        "GET /healthz",
        "GET /openapi.json",
        "GET /readyz",
        "GET /ui/*",
        "POST /ui/session",
      ]);
      for (const [path, ops] of Object.entries(doc.paths))
        for (const [method, op] of Object.entries(ops)) {
          const scope = (op as { "x-switchyard-scope"?: string })["x-switchyard-scope"];
          const rule = ROUTE_SCOPES.get(
            `${method.toUpperCase()} ${path.replace("{path}", "*").replace(/\{([A-Za-z]+)\}/g, ":$1")}`,
          );
          expect(scope, `${method} ${path}`).toBe(rule?.label);
        }
      await server.close();
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the route scope table", () => {
  it("a route without a declared scope cannot be registered", async () => {
    const app = Fastify({ exposeHeadRoutes: false });
    declareScopes(app);
    app.get("/healthz", async () => "ok");
    expect(() => app.get("/v1/undeclared", async () => "no")).toThrow(/declares no scope/);
    await app.close();
  });
});
