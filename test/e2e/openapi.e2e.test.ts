import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { KeyStore } from "../../src/broker/keys.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { openApiDocument } from "../../src/server/openapi.js";
import { createServer } from "../../src/server/server.js";

/** `/v1/topics/:topic` → `/v1/topics/{topic}` */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, "{$1}");
}

describe("the OpenAPI document", () => {
  it("covers every route the server registers, with the same methods", async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-openapi-"));
    const engine = await createEngine({ kind: "sqlite", dataDir: dir });
    try {
      const server = await createServer({
        broker: new Broker({ engine }),
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
      await server.close();
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
