/**
 * A fresh engine of each kind for tests that run on both: the embedded store in a temp dir,
 * and NATS on a nats-server of its own (when one is installed; `available` says).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "../../src/engine/engine.js";
import { NatsEngine } from "../../src/engine/nats/index.js";
import { openSqliteEngine } from "../../src/engine/sqlite/index.js";
import { natsServerAvailable, startNatsServer } from "./nats-server.js";

export interface OpenedEngine {
  readonly engine: Engine;
  dispose(): Promise<void>;
}

export interface EngineCase {
  readonly name: string;
  readonly available: boolean;
  open(): Promise<OpenedEngine>;
}

/** `label` names the temp dir and the NATS prefix (2 upper-case letters, e.g. `OW`). */
export function engineCases(label: string): EngineCase[] {
  return [
    {
      name: "sqlite",
      available: true,
      async open() {
        const dir = mkdtempSync(join(tmpdir(), `switchyard-${label.toLowerCase()}-`));
        const engine = await openSqliteEngine({ dir });
        return {
          engine,
          async dispose() {
            await engine.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
    {
      name: "nats",
      available: natsServerAvailable(),
      async open() {
        const nats = await startNatsServer();
        const engine = await NatsEngine.open({
          servers: nats.url,
          prefix: `${label}${randomBytes(3).toString("hex")}`,
          timeoutMs: 5_000,
        });
        return {
          engine,
          async dispose() {
            await engine.close();
            await nats.close();
          },
        };
      },
    },
  ];
}
