/**
 * Runs the engine conformance suite against the NATS engine on a nats-server this file
 * starts itself (free loopback port, temporary store). Every `open` gets its own prefix, so
 * its streams and buckets are its own. A "kill" cuts the engine's connection without any
 * graceful step (nothing released, nothing in flight finished), as if its process died; the
 * nats-server keeps running, like the database server of an embedded engine's disk.
 */
import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import {
  type NatsServers,
  natsServerAvailable,
  startNatsServer,
} from "../../../test/support/nats-server.js";
import type { EngineHarness } from "../conformance/harness.js";
import { engineConformance } from "../conformance/index.js";
import type { Engine } from "../engine.js";
import { NatsEngine } from "./index.js";

function natsHarness(): EngineHarness {
  const run = randomBytes(3).toString("hex");
  const prefixes = new Map<Engine, string>();
  let server: Promise<NatsServers> | undefined;
  let count = 0;

  async function openWith(prefix: string): Promise<Engine> {
    server ??= startNatsServer();
    const engine = await NatsEngine.open({ servers: (await server).url, prefix, timeoutMs: 5_000 });
    prefixes.set(engine, prefix);
    return engine;
  }

  return {
    name: "nats (one server)",
    open: () => {
      count += 1;
      return openWith(`C${run}-${count}`);
    },
    async reopen(engine, how) {
      const prefix = prefixes.get(engine);
      if (prefix === undefined || !(engine instanceof NatsEngine))
        throw new Error("reopen of an engine this harness did not open");
      prefixes.delete(engine);
      if (how === "close") await engine.close();
      else await engine.kill();
      return openWith(prefix);
    },
    peer(engine) {
      const prefix = prefixes.get(engine);
      if (prefix === undefined) throw new Error("peer of an engine this harness did not open");
      return openWith(prefix);
    },
    async cleanup() {
      for (const [engine] of prefixes) await engine.close().catch(() => undefined);
      prefixes.clear();
      if (server !== undefined) await (await server).close();
    },
  };
}

if (natsServerAvailable()) engineConformance(natsHarness());
else
  describe("engine conformance: nats", () => {
    it.skip("needs nats-server (apt-get install -y nats-server): SKIPPED, see the warning above", () => {});
  });
